import { createActivityDeps } from './activity-deps.js';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfigWithSealedSecretsOrExit } from '../infra/sealed-secrets.js';
import { orExit, requireWorkerVersion } from '../infra/config.js';
import { createLogger } from '../infra/logger.js';
import { createOrm } from '../infra/db/orm.js';
import { checkApplicationRole } from '../infra/db/roles.js';
import { createProviders } from '../infra/providers/registry.js';
import { createStripeClient, createStripeGateway } from '../infra/stripe/stripe.gateway.js';
import { ensureSearchAttributes } from '../infra/temporal/search-attributes.js';
import { ensureAuditCheckpointSchedule, ensureReconciliationSchedule, ensureRetentionSchedule, ensureStalledWorkSchedule } from '../infra/temporal/schedules.js';
import { createWorkflowStarter } from '../infra/temporal/workflow-starter.js';
import { temporalConnectionOptions } from '../infra/temporal/connection.js';
import { tracingClientInterceptors } from '../infra/temporal/tracing.js';
import { startTracing } from '../infra/telemetry/tracing.js';
import { installBufferedWorkerMetrics, serveWorkerMetrics } from '../infra/temporal/worker-metrics.js';
import { createBookingWorker } from './create-worker.js';
import { createKmsKeyService } from '../infra/kms/kms.key-service.js';
import { createEncryptionCodec } from '../infra/temporal/encryption-codec.js';
import { encryptedDataConverter } from '../infra/temporal/data-converter.js';

// Composition root of the booking worker process.
const config = await loadConfigWithSealedSecretsOrExit();
// Production polls as a Worker Deployment Version (README "Deploying workflow changes").
const version = orExit(() => requireWorkerVersion(config));
const log = createLogger(config, 'worker');
for (const warning of config.localFakeWarnings) log.warn(warning);
// An OTLP exporter when OTEL_EXPORTER_OTLP_ENDPOINT is set; the workflows' spans reach it through the worker's sink.
const tracing = startTracing(config.tracing, { service: 'travelconnect-worker', log });
// Task slots, poll latencies, schedule-to-start, sticky cache: the SDK's metrics, scraped beside the
// API's and, like them, only with METRICS_TOKEN (the SDK's own exporter would answer anyone).
const metricsServer = config.workerMetrics.port > 0
  ? await serveWorkerMetrics({ ...config.workerMetrics, token: config.metrics.token, collect: installBufferedWorkerMetrics() })
  : undefined;
if (metricsServer) log.info({ metrics: `http://${config.workerMetrics.host}:${config.workerMetrics.port}/metrics` }, 'worker metrics (Authorization: Bearer METRICS_TOKEN)');
const orm = await createOrm(config.database);
// Production refuses to run as the owner or a superuser, as the API does.
await checkApplicationRole(orm, config, log);
const keys = createKmsKeyService(config.kms);
const dataConverter = encryptedDataConverter(await createEncryptionCodec(keys, { refusePlaintext: config.isProduction }));
// The workflows upsert these; a namespace without them would fail every booking.
const operator = await Connection.connect(temporalConnectionOptions(config.temporal));
const registered = await ensureSearchAttributes(operator, config.temporal.namespace);
if (registered.length > 0) log.info({ registered }, 'registered search attributes');
// Schedules, and the sweep's starts of lost workflows, go through this client; it lives as long as the worker.
const client = new Client({ connection: operator, namespace: config.temporal.namespace, dataConverter, interceptors: tracingClientInterceptors() });
const schedule = await ensureRetentionSchedule(client, {
  taskQueue: config.temporal.taskQueue,
  everyMs: config.retention.everyMs,
  policy: config.retention.policy,
});
log.info({ schedule }, 'retention purge schedule');
const checkpoints = await ensureAuditCheckpointSchedule(client, { taskQueue: config.temporal.taskQueue });
log.info({ schedule: checkpoints }, 'audit checkpoint schedule');
const sweep = await ensureStalledWorkSchedule(client, {
  taskQueue: config.temporal.taskQueue,
  everyMs: config.stalledWork.everyMs,
  policy: config.stalledWork.policy,
});
log.info({ schedule: sweep }, 'stalled-work sweep schedule');
const reconciler = await ensureReconciliationSchedule(client, { taskQueue: config.temporal.taskQueue, everyMs: config.reconciliation.everyMs });
log.info({ schedule: reconciler }, 'reconciliation schedule');
const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
const activities = createActivityDeps(config, orm, {
  providers: createProviders(config.providers),
  payments: createStripeGateway(createStripeClient(config.stripe)),
  keys,
  workflows: createWorkflowStarter(client, config.temporal.taskQueue),
});
const worker = await createBookingWorker({
  connection,
  dataConverter,
  temporal: config.temporal,
  tuning: config.worker,
  deps: activities.deps,
  tracing,
  version,
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // A terminal's Ctrl-C and a supervisor's SIGTERM may both arrive: shut down once.
  process.on(signal, () => {
    if (worker.getState() !== 'RUNNING') return;
    log.info({ signal }, 'shutting down: finishing in-flight tasks');
    worker.shutdown();
  });
}
log.info({ taskQueue: config.temporal.taskQueue, address: config.temporal.address, version: version ?? 'unversioned' }, 'worker started');
try {
  await worker.run();
} finally {
  await connection.close();
  await operator.close();
  await orm.close();
  activities.close();
  keys.destroy();
  metricsServer?.close();
  await tracing.shutdown();
  log.info('worker stopped');
}
