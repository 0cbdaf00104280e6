import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
// A CommonJS module: Node's ESM loader sees only its default export.
import proto from '@temporalio/proto';
import { BOOKING_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.js';
import { workflowsPath } from '../../infra/temporal/connection.js';
import { failureConverterPath } from '../../infra/temporal/data-converter.js';

const { IndexedValueType } = proto.temporal.api.enums.v1;

/** Temporal's Java test server: the launcher, and the jars dev/install.sh copies from Maven (dev/temporal-test-server/pom.xml). */
const TEST_SERVER_PATH = fileURLToPath(new URL('../../dev/temporal-test-server/run.sh', import.meta.url));
const TEST_SERVER_JARS = fileURLToPath(new URL('../../.tools/temporal-test-server/lib', import.meta.url));

/**
 * A time-skipping Temporal of the test's own (no shared server, no database): a workflow waiting on
 * a timer while the test awaits its result jumps ahead, so a hold expiry or a 2-minute sweep takes
 * no real time. The SDK would download a native test server, which this machine cannot; the same
 * server runs here from Maven's jars.
 */
export async function createTimeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  if (!existsSync(TEST_SERVER_JARS)) {
    throw new Error(`${TEST_SERVER_JARS} is missing: run \`bash dev/install.sh\` (it fetches Temporal's test server from Maven).`);
  }
  // The workers' lifecycle lines and the activity failures a test provokes would drown its output;
  // TEST_WORKER_LOG_LEVEL=INFO brings them back.
  const level = (process.env.TEST_WORKER_LOG_LEVEL as 'INFO' | undefined) ?? 'ERROR';
  Runtime.install({ logger: new DefaultLogger(level), telemetryOptions: { logging: { filter: { core: level, other: level }, forward: {} } } });
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: TEST_SERVER_PATH } } });
  // The test server refuses undefined search attributes, as a real namespace does, and cannot list them
  // (so infra/temporal/search-attributes.ts's ensureSearchAttributes does not apply): add them all.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(BOOKING_SEARCH_ATTRIBUTES.map((key) => [key.name, IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`]])),
  });
  return env;
}

/** The workflows as the worker bundles them, with its failure converter (not the tracing interceptors: the saga does not depend on them); once per test file. */
export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: workflowsPath(), failureConverterPath, logger: quietBundler });
}

const quiet = () => undefined;
const quietBundler = { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet, log: quiet };
