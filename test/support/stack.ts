import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { pino, type Logger } from 'pino';
import { inject } from 'vitest';
import { createApp } from '../../api/app.js';
import { createLoginGuard, type LoginGuardPolicy } from '../../infra/auth/login-guard.js';
import { createLocalCaptchaApp } from '../../dev/captcha/local-captcha.app.js';
import { createAuthComponents } from '../../api/auth.components.js';
import { loadConfig, type Config } from '../../infra/config.js';
import { createFieldCipher } from '../../infra/crypto/field-cipher.js';
import { createDataKeyStore } from '../../infra/db/data-key.store.js';
import { createOrm } from '../../infra/db/orm.js';
import { createKmsKeyService } from '../../infra/kms/kms.key-service.js';
import { createProviders } from '../../infra/providers/registry.js';
import { createHotelSandboxApp } from '../../dev/sandbox/hotels.app.js';
import { createSandboxApp, type Faults } from '../../dev/sandbox/sandbox.app.js';
import { createStripeClient, createStripeGateway } from '../../infra/stripe/stripe.gateway.js';
import { createTemporalClient } from '../../infra/temporal/connection.js';
import { createEncryptionCodec } from '../../infra/temporal/encryption-codec.js';
import { encryptedDataConverter } from '../../infra/temporal/data-converter.js';
import { createBookingWorker } from '../../workers/create-worker.js';
import { TEST_NAMESPACE } from './namespace.js';
import { createMetrics } from '../../infra/metrics.js';
import { createRedis, redisReady } from '../../infra/redis.js';
import { countBookingsByStatus } from '../../infra/db/booking-stats.js';
import { countOpenCasesByKind } from '../../infra/db/reconciliation.store.js';
import { createActivityDeps } from '../../workers/activity-deps.js';
import { createWorkflowStarter } from '../../infra/temporal/workflow-starter.js';
import { startTracing } from '../../infra/telemetry/tracing.js';

/**
 * Everything a test needs, composed like production: the real API app, a real worker
 * on a task queue of its own, a sandbox provider served over HTTP, and this run's database.
 */
let runtimeInstalled = false;

export async function startStack(
  options: {
    faults?: Partial<Faults>;
    env?: NodeJS.ProcessEnv;
    holdTtlMs?: number;
    inProcessWorker?: boolean;
    workerTuning?: Config['worker'];
    /** Faster progressive delays for tests that walk through them; thresholds stay those of docs/api.md "Authentication". */
    loginGuard?: Partial<LoginGuardPolicy>;
    /** The API's logger (silent unless TEST_LOG_LEVEL); the log test passes one that records. */
    log?: Logger;
    /** A built web client for the API to serve at `/` (the browser test builds one). */
    webRoot?: string;
  } = {},
) {
  if (!runtimeInstalled) {
    // Workflow failures are what these tests provoke: keep the worker's log to real warnings.
    Runtime.install({ logger: new DefaultLogger((process.env.TEST_WORKER_LOG_LEVEL as 'WARN' | undefined) ?? 'ERROR') });
    runtimeInstalled = true;
  }
  const sandboxApp = createSandboxApp({ offerTtlMs: 15 * 60_000, holdTtlMs: options.holdTtlMs ?? 20 * 60_000, faults: options.faults });
  // The hotel supplier under /hotels, as the sandbox process serves it.
  sandboxApp.route('/hotels', createHotelSandboxApp({ offerTtlMs: 15 * 60_000, holdTtlMs: options.holdTtlMs ?? 20 * 60_000 }));
  sandboxApp.route('/captcha', createLocalCaptchaApp({ secret: loadConfig({ ...process.env, ...options.env }).auth.captcha.secret }));
  const sandboxServer = await new Promise<ServerType>((resolve) => {
    const server = serve(
      { fetch: sandboxApp.fetch, hostname: '127.0.0.1', port: 0 },
      () => resolve(server),
    );
  });
  const sandboxUrl = `http://127.0.0.1:${(sandboxServer.address() as AddressInfo).port}`;
  const runId = randomUUID().slice(0, 8);
  const config: Config = loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    REDIS_KEY_PREFIX: `test:${runId}:`,
    TEMPORAL_NAMESPACE: TEST_NAMESPACE,
    // As production runs: the application role; the owner's URL names this run's database too.
    DATABASE_URL: inject('databaseUrl'),
    MIGRATION_DATABASE_URL: inject('migrationDatabaseUrl'),
    SANDBOX_PROVIDER_URL: sandboxUrl,
    HOTEL_PROVIDER_URL: `${sandboxUrl}/hotels`,
    // The sandbox process serves the local CAPTCHA verifier too (infra/captcha).
    CAPTCHA_VERIFY_URL: `${sandboxUrl}/captcha/siteverify`,
    // Tests stand in for a reverse proxy on loopback: each simulated client names its IP.
    TRUSTED_PROXIES: '127.0.0.1,::1',
    PROVIDER_TIMEOUT_MS: '2000',
    ...options.env,
  });
  const taskQueue = `test-${randomUUID()}`;
  // As the API and the worker start it: exported only when the test sets OTEL_EXPORTER_OTLP_ENDPOINT.
  const tracing = startTracing(config.tracing, { service: 'travelconnect-test' });
  const orm = await createOrm(config.database);
  const keys = createKmsKeyService(config.kms);
  const stripe = createStripeClient(config.stripe);
  const providers = createProviders(config.providers);
  const dataConverter = encryptedDataConverter(await createEncryptionCodec(keys));
  const temporal = await createTemporalClient(config.temporal, dataConverter);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  // Tests that kill workers run them as processes of their own instead (see workerEnv).
  const worker: Worker | undefined = options.inProcessWorker === false ? undefined : await createBookingWorker({
    connection,
    temporal: config.temporal,
    taskQueue,
    dataConverter,
    tuning: options.workerTuning,
    tracing,
    deps: createActivityDeps(config, orm, { providers, payments: createStripeGateway(stripe), keys, workflows: createWorkflowStarter(temporal, taskQueue), log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) }).deps,
  });
  const running = worker?.run();
  const redis = createRedis(config.redis);
  await redisReady(redis);
  // Counted on the way to Postgres, so tests can tell how often a scrape reaches the database.
  let bookingCountQueries = 0;
  const metrics = createMetrics({
    countBookingsByStatus: () => {
      bookingCountQueries += 1;
      return countBookingsByStatus(orm);
    },
    countOpenCasesByKind: () => countOpenCasesByKind(orm),
    cacheMs: config.metrics.cacheMs,
  });
  const auth = createAuthComponents(config, { orm, redis });
  if (options.loginGuard) auth.guard = createLoginGuard(redis, options.loginGuard);
  const app = createApp({
    codec: dataConverter.payloadCodecs[0],
    auth,
    redis,
    metrics,
    config,
    log: options.log ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    orm,
    temporal,
    providers,
    cipher: createFieldCipher({ keys, store: createDataKeyStore(orm) }),
    stripe,
    taskQueue,
    webRoot: options.webRoot,
  });

  // The API on a real port too, so localstripe can deliver its webhooks to this stack.
  const apiServer = await new Promise<ServerType>((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(server));
  });
  const apiUrl = `http://127.0.0.1:${(apiServer.address() as AddressInfo).port}`;
  const registered = await fetch(`${config.stripe.apiUrl}/_config/webhooks/${taskQueue}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${apiUrl}/api/v1/webhooks/stripe`, secret: config.stripe.webhookSecret }),
  });
  if (!registered.ok) throw new Error(`registering the webhook at localstripe failed: ${registered.status}`);

  return {
    app,
    auth,
    apiUrl,
    /** Production's data converter (codec and failure converter), for workers a test builds itself. */
    dataConverter,
    keys,
    redis,
    metrics,
    /** How many times the bookings-by-status gauge has queried Postgres. */
    bookingCountQueries: () => bookingCountQueries,
    /** The environment a worker process needs to serve this stack. */
    workerEnv: {
      ...process.env,
      // The test's overrides too (its own Temporal, Stripe fake...), so the process serves this stack.
      ...options.env,
      NODE_ENV: 'test',
      DATABASE_URL: config.database.url,
      TEMPORAL_TASK_QUEUE: taskQueue,
      TEMPORAL_NAMESPACE: config.temporal.namespace,
      SANDBOX_PROVIDER_URL: sandboxUrl,
      HOTEL_PROVIDER_URL: config.providers.hotelUrl,
      PROVIDER_TIMEOUT_MS: String(config.providers.timeoutMs),
      LOG_LEVEL: 'warn',
      // No metrics endpoint: a fixed port (9464 by default) is taken by a second worker or the dev worker, and the SDK then refuses to start.
      WORKER_METRICS_PORT: '0',
    } as NodeJS.ProcessEnv,
    config,
    orm,
    stripe,
    temporal,
    sandboxUrl,
    taskQueue,
    tracing,
    async setFaults(faults: Partial<Faults>) {
      const response = await fetch(`${sandboxUrl}/_control/faults`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(faults),
      });
      if (!response.ok) throw new Error(`setting faults failed: ${response.status}`);
    },
    async stop() {
      worker?.shutdown();
      await running;
      await connection.close();
      await temporal.connection.close();
      await orm.close();
      redis.disconnect();
      keys.destroy();
      await new Promise((resolve) => sandboxServer.close(resolve));
      await new Promise((resolve) => apiServer.close(resolve));
      await tracing.shutdown();
    },
  };
}
export type Stack = Awaited<ReturnType<typeof startStack>>;

/**
 * Another API app on this stack's connections, differing in what `overrides` says (production
 * config, a closed ORM, no trusted proxy...); for tests of how the app is composed.
 */
export function variantApp(stack: Stack, overrides: Partial<Parameters<typeof createApp>[0]>) {
  return createApp({
    config: stack.config,
    log: pino({ level: 'silent' }),
    orm: stack.orm,
    temporal: stack.temporal,
    providers: new Map(),
    cipher: { encrypt: async () => '', decrypt: async () => '', forget: () => {} },
    stripe: stack.stripe,
    redis: stack.redis,
    metrics: stack.metrics,
    auth: stack.auth,
    taskQueue: stack.taskQueue,
    ...overrides,
  });
}
