import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { HistoryAndWorkflowId, PayloadCodec } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, Runtime, Worker, type ReplayResult, type ReplayWorkerOptions } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../infra/config.js';
import { createKmsKeyService } from '../../infra/kms/kms.key-service.js';
import { createEncryptionCodec } from '../../infra/temporal/encryption-codec.js';
import { encryptedDataConverter } from '../../infra/temporal/data-converter.js';
import { payloadTexts } from './payloads.js';
import { workflowsPath } from '../../infra/temporal/connection.js';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { tracingWorkerOptions } from '../../infra/temporal/tracing.js';
import { startTracing } from '../../infra/telemetry/tracing.js';

/**
 * Versioning guard: every recorded history of the booking saga and the other workflows (test/replay/histories,
 * written by `npm run record:histories`) must replay against the workflow code as it is now.
 * A failure here means the change would break bookings already running in production:
 * gate it behind patched() or ship it as a new workflow type; do not re-record to get green.
 */

// Replay workers log every start and stop at INFO: keep the output to real problems, as test/support/stack.ts does.
try {
  Runtime.install({ logger: new DefaultLogger((process.env.TEST_WORKER_LOG_LEVEL as 'WARN' | undefined) ?? 'ERROR') });
} catch {
  // this process already has a Temporal runtime (and its logger)
}

const historiesDir = new URL('./histories/', import.meta.url);
const files = readdirSync(historiesDir)
  .filter((name) => name.endsWith('.json'))
  .sort();

/** The paths of the saga and the other workflows that exist today; a new path needs its recorded history added here. */
const PATHS = [
  'confirmed',
  'payment-declined',
  'payment-method-invalid',
  'three-d-secure-confirmed',
  'three-d-secure-refused',
  'payment-processing-rewait',
  'hold-expired',
  'provider-rejects-confirmation',
  'multi-offer-partial-confirm',
  'price-changed',
  'passenger-data-erased',
  'cancelled-before-confirmation',
  'workflow-cancelled-before-confirmation',
  'workflow-cancelled-after-point-of-no-return',
  'cancelled-after-confirmation',
  'cancellation-needs-attention',
  'admin-refund',
  'needs-attention-then-failed',
  // Recorded after patched('late-success-sweep'): the failure path with its later sweep.
  'payment-declined-with-late-success-sweep',
  'retention-purge',
  // Recorded after patched('purge-auth-records') and patched('audit-trim').
  'retention-purge--auth-records-and-audit-trim',
  // Both patches, and the run that goes through its 50 batches and continues as new.
  'retention-purge-continued',
  'stalled-work-sweep',
  'reconciliation',
  'audit-checkpoint',
  'account-deletion',
  'notification',
];

function load(file: string) {
  const history = historyFromJSON(JSON.parse(readFileSync(new URL(file, historiesDir), 'utf8')));
  // The saga reads its own workflow id (idempotency keys): replay under the recorded one.
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  return { workflowId: started?.workflowId || file.replace(/\.json$/, ''), history };
}

/**
 * Production's worker options where they matter to replay (workers/booking.worker.ts): the same
 * workflows entry, the same data converter (the KMS-backed encryption codec, refusing any payload
 * it did not encrypt, failures encoded) and the OpenTelemetry interceptors (workers/create-worker.ts
 * installs them whether traces are exported or not).
 */
const keys = createKmsKeyService(loadConfig({ ...process.env, NODE_ENV: 'test' }).kms);
const codec = await createEncryptionCodec(keys, { refusePlaintext: true });
// Reads every payload of a file, the patch markers' plain data included, which the worker never decodes.
const reader = await createEncryptionCodec(keys);
const productionReplayOptions = (path: string): ReplayWorkerOptions => ({
  workflowsPath: path,
  replayName: 'booking-replay',
  dataConverter: encryptedDataConverter(codec),
  ...tracingWorkerOptions(startTracing({}, { service: 'booking-replay' })),
});
afterAll(() => keys.destroy());

async function replay(options: ReplayWorkerOptions, histories: HistoryAndWorkflowId[]): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  for await (const result of Worker.runReplayHistories(options, histories)) results.push(result);
  return results;
}

describe('replay of recorded booking histories', () => {
  it('has a recorded history for every path of the saga', () => {
    expect(files.length).toBeGreaterThan(0);
    expect(files.map((name) => name.replace(/\.json$/, ''))).toEqual(expect.arrayContaining(PATHS));
  });

  it("replays through production's codec, which refuses a payload it did not encrypt", async () => {
    const [productionCodec] = productionReplayOptions(workflowsPath()).dataConverter!.payloadCodecs as [PayloadCodec];
    const plain = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"forged":true}') };
    await expect(productionCodec.decode([plain])).rejects.toThrow(/is not encrypted/);
  });

  it('replays every recorded history against the current workflow code without error', async () => {
    const histories = files.map(load);
    expect(histories.length).toBeGreaterThan(0);
    const results = await replay(productionReplayOptions(workflowsPath()), histories);

    expect(results).toHaveLength(files.length); // so an empty folder, or a history skipped, fails
    const outcome = (result: ReplayResult) => ({ workflowId: result.workflowId, error: result.error ? `${result.error.name}: ${result.error.message}` : undefined });
    expect(results.map(outcome)).toEqual(histories.map(({ workflowId }) => ({ workflowId, error: undefined })));
  });

  it('replays every recorded history with the OpenTelemetry workflow interceptors tracing it', async () => {
    // The sink the worker installs, but called during replay too, so the workflows' spans show the interceptors ran.
    const spans = new InMemorySpanExporter();
    const traced = tracingWorkerOptions({ spanProcessor: new SimpleSpanProcessor(spans), resource: startTracing({}, { service: 'booking-replay' }).resource });
    const exporter = traced.sinks.exporter!.export!;
    const histories = files.map(load);
    const results = await replay({ ...productionReplayOptions(workflowsPath()), ...traced, sinks: { exporter: { export: { ...exporter, callDuringReplay: true } } } }, histories);

    expect(results.map((result) => result.error?.message)).toEqual(histories.map(() => undefined));
    for (const { workflowId, history } of histories) {
      const events = history.events ?? [];
      const own = spans.getFinishedSpans().filter((span) => span.attributes.workflowId === workflowId);
      const workflowType = events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
      const closed = events.some((event) => event.workflowExecutionCompletedEventAttributes || event.workflowExecutionFailedEventAttributes || event.workflowExecutionContinuedAsNewEventAttributes);
      if (closed) expect(own.map((span) => span.name), workflowId).toContain(`RunWorkflow:${workflowType}`);
      // Every activity the workflow saw finish was started in a span of its own.
      const scheduled = new Map(events.filter((event) => event.activityTaskScheduledEventAttributes).map((event) => [String(event.eventId), event.activityTaskScheduledEventAttributes!.activityType!.name!]));
      const finished = events.map((event) => event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes).filter((attributes) => attributes !== undefined && attributes !== null);
      const startedSpans = own.filter((span) => span.name.startsWith('StartActivity:')).map((span) => span.name).sort();
      expect(startedSpans.length, workflowId).toBeGreaterThanOrEqual(finished.length);
      for (const attributes of finished) expect(startedSpans, workflowId).toContain(`StartActivity:${scheduled.get(String(attributes.scheduledEventId))}`);
      // Linked: every span under its run or under the handling of a signal or update (these recorded ones carried no trace).
      const ids = new Set(own.map((span) => span.spanContext().spanId));
      expect(own.filter((span) => (span.parentSpanId ? !ids.has(span.parentSpanId) : !/^(RunWorkflow|HandleSignal|HandleUpdate|ValidateUpdate):/.test(span.name))).map((span) => span.name), workflowId).toEqual([]);
    }
    expect(spans.getFinishedSpans().length).toBeGreaterThan(histories.length);
  });

  it('carries no passenger or contact data in any payload, read through the codec', async () => {
    for (const file of files) {
      const payloads = await payloadTexts(JSON.parse(readFileSync(new URL(file, historiesDir), 'utf8')), reader);
      expect(payloads.length, file).toBeGreaterThan(0);
      for (const text of payloads) {
        expect(text, file).not.toMatch(/"(passportNumber|passengers|dateOfBirth|contact|phone|email)"/);
        expect(text, file).not.toMatch(/\+[1-9]\d{6,14}/); // an E.164 phone number
      }
    }
  });

  it('fails with a DeterminismViolationError when the activity order changes', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/extra-activity-first.workflow.ts', import.meta.url));
    const [result, ...rest] = await replay(productionReplayOptions(fixture), [load('confirmed.json')]);

    expect(rest).toHaveLength(0);
    expect(result?.error).toBeInstanceOf(DeterminismViolationError);
  });
});
