import { Worker, type NativeConnection } from '@temporalio/worker';
import type { DataConverter, WorkerDeploymentVersion } from '@temporalio/common';
import type { Config } from '../infra/config.js';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { workflowsPath } from '../infra/temporal/connection.js';
import { tracingWorkerOptions } from '../infra/temporal/tracing.js';
import { startTracing, type Tracing } from '../infra/telemetry/tracing.js';

/** A booking worker on the given connection; the entry point and the tests build it the same way. */
export async function createBookingWorker(options: {
  connection: NativeConnection;
  temporal: Config['temporal'];
  deps: ActivityDeps;
  tuning?: Config['worker'];
  taskQueue?: string;
  dataConverter?: DataConverter;
  /** Where the workflows' spans go (the process's startTracing); unset, nowhere. */
  tracing?: Pick<Tracing, 'spanProcessor' | 'resource'>;
  /** Polls as this Worker Deployment Version (production: requireWorkerVersion); none, unversioned. */
  version?: WorkerDeploymentVersion;
}): Promise<Worker> {
  const { workflowBundlePath, ...tuning } = options.tuning ?? {};
  const defined = Object.fromEntries(Object.entries(tuning).filter(([, value]) => value !== undefined));
  return Worker.create({
    connection: options.connection,
    namespace: options.temporal.namespace,
    taskQueue: options.taskQueue ?? options.temporal.taskQueue,
    ...(workflowBundlePath ? { workflowBundle: { codePath: workflowBundlePath } } : { workflowsPath: workflowsPath() }),
    activities: createActivities(options.deps),
    dataConverter: options.dataConverter,
    // Always, so the workflow code is the same whether traces are exported or not.
    ...tracingWorkerOptions(options.tracing ?? startTracing({}, { service: 'travelconnect-worker' }), { prebuiltBundle: Boolean(workflowBundlePath) }),
    // Each workflow type names its own behaviour (setWorkflowOptions beside it); a type that forgets
    // stays on the build it started on, which never breaks it, where moving could.
    ...(options.version ? { workerDeploymentOptions: { useWorkerVersioning: true, version: options.version, defaultVersioningBehavior: 'PINNED' as const } } : {}),
    ...defined,
  });
}
