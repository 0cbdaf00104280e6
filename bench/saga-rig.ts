import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { BookingRepository } from '../activities/booking.ports.js';
import type { BookingStatus } from '../domain/booking-status.js';
import { TERMINAL_STATUSES } from '../domain/booking-status.js';
import type { Config } from '../infra/config.js';
import { createFieldCipher } from '../infra/crypto/field-cipher.js';
import { createDataKeyStore } from '../infra/db/data-key.store.js';
import { User } from '../infra/db/entities.js';
import { createOrm, type Orm } from '../infra/db/orm.js';
import { createKmsKeyService } from '../infra/kms/kms.key-service.js';
import { createFlightProvider } from '../infra/providers/flights.adapter.js';
import { createStripeClient, createStripeGateway } from '../infra/stripe/stripe.gateway.js';
import { createTemporalClient, workflowsPath } from '../infra/temporal/connection.js';
import { tracingClientInterceptors } from '../infra/temporal/tracing.js';
import { createWorkflowStarter } from '../infra/temporal/workflow-starter.js';
import { createEncryptionCodec } from '../infra/temporal/encryption-codec.js';
import { encryptedDataConverter } from '../infra/temporal/data-converter.js';
import { createActivityDeps } from '../workers/activity-deps.js';
import { createBookingWorker } from '../workers/create-worker.js';
import { bookingWorkflow, type BookingWorkflowInput } from '../workflows/booking.workflow.js';
import { cpuSecondsOf, distinctOffers, pool, selfCpuSeconds, startSandbox, startStripeFake } from './bench-stack.js';
import { createInProcessSaga } from './in-process-saga.js';
import type { NoopSagaActivities } from './noop-saga.workflows.js';

/**
 * What saga-drain and saga-latency share: the booking rows a batch of sagas needs, fresh fakes
 * (sandbox provider and Stripe fake, each its own process) for every run, the real booking worker
 * composed as workers/booking.worker.ts composes it, the no-op saga's worker, and the in-process
 * saga. Completion is observed in-process: the worker's (and the floor's) booking repository is
 * wrapped so the moment a terminal status is committed is known without polling anything.
 */
export interface SagaBatch {
  inputs: BookingWorkflowInput[];
}

export type Fakes = Awaited<ReturnType<typeof startFakes>>;

/** A fresh sandbox provider and Stripe fake, and the activity I/O pointing at them. */
async function startFakes(env: NodeJS.ProcessEnv, config: Config) {
  const [sandbox, stripe] = await Promise.all([startSandbox(env), startStripeFake()]);
  const providers = new Map([['sandbox', createFlightProvider({ baseUrl: sandbox.url, timeoutMs: config.providers.timeoutMs })]]);
  const payments = createStripeGateway(createStripeClient({ ...config.stripe, apiUrl: stripe.url }));
  const pids = { sandbox: sandbox.child.pid!, stripe: stripe.pid! };
  return {
    providers,
    payments,
    cpu: () => ({ sandbox: cpuSecondsOf(pids.sandbox), stripe: cpuSecondsOf(pids.stripe) }),
    async stop() {
      await Promise.all([sandbox.stop(), stripe.stop()]);
    },
  };
}

export async function createSagaRig(options: { env: NodeJS.ProcessEnv; config: Config; temporalPid?: number }) {
  const { env, config } = options;
  // Warnings only; the SDK's metrics on a port when asked (BENCH_WORKER_METRICS_PORT), for profiling.
  const metricsPort = Number(process.env.BENCH_WORKER_METRICS_PORT ?? 0);
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    ...(metricsPort > 0 ? { telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${metricsPort}` } } } } : {}),
  });
  const orm: Orm = await createOrm(config.database);
  const keys = createKmsKeyService(config.kms);
  const dataConverter = encryptedDataConverter(await createEncryptionCodec(keys));
  const client: Client = await createTemporalClient(config.temporal, dataConverter);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  // Eager workflow start (BENCH_EAGER=1): the server hands the first workflow task back in the start's
  // answer, which only a client sharing a worker's connection in the same process can take.
  const eagerClient = new Client({ connection, namespace: config.temporal.namespace, dataConverter, interceptors: tracingClientInterceptors() });
  const eager = process.env.BENCH_EAGER === '1';
  let eagerlyStarted = 0;
  // Each workflow bundle is built once (webpack), not per run: Worker.create would rebuild it every time.
  const bundles = mkdtempSync(join(tmpdir(), 'tc-bench-bundles-'));
  const oursBundle = join(bundles, 'booking.js');
  writeFileSync(oursBundle, (await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: new DefaultLogger('WARN') })).code);
  const noopBundle = (await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('./noop-saga.workflows.ts', import.meta.url)), logger: new DefaultLogger('WARN') })).code;
  const tuning: Config['worker'] = { ...config.worker, workflowBundlePath: oursBundle };
  // BENCH_OTHER_WORKFLOWS=<another checkout>/workflows/index.ts: the same saga from other workflow code
  // (e.g. `git archive HEAD` unpacked beside node_modules), to compare two versions in one run.
  const otherWorkflows = process.env.BENCH_OTHER_WORKFLOWS;
  const otherBundle = join(bundles, 'other.js');
  if (otherWorkflows) writeFileSync(otherBundle, (await bundleWorkflowCode({ workflowsPath: otherWorkflows, logger: new DefaultLogger('WARN') })).code);
  const userId = randomUUID();
  const em = orm.em.fork();
  em.create(User, { id: userId, email: `bench-saga-${userId}@example.test`, role: 'user', name: 'Bench Saga', emailVerifiedAt: new Date() });
  await em.flush();
  // One traveller, encrypted under the bench user's key as the API stores passengers: confirmHold decrypts it.
  const cipher = createFieldCipher({ keys, store: createDataKeyStore(orm) });
  const passengers = JSON.stringify([
    {
      givenName: 'Ada',
      familyName: 'Lovelace',
      dateOfBirth: await cipher.encrypt(userId, '1985-12-10'),
      passportNumber: await cipher.encrypt(userId, 'X1234567'),
      passportHint: '*****567',
      passportCountry: 'GB',
      nationality: 'GB',
    },
  ]);
  let batchNumber = 0;

  /** n bookings in Postgres (PENDING, one item each, on flights of their own) and their saga inputs. */
  async function prepareBatch(n: number): Promise<SagaBatch> {
    batchNumber += 1;
    const offers = distinctOffers(n, batchNumber);
    const rows = offers.map((offer) => ({ id: randomUUID(), key: randomUUID(), item: randomUUID(), ...offer }));
    const json = JSON.stringify(rows.map((r) => ({ id: r.id, key: r.key, item: r.item, offer_id: r.offerId, minor: r.expectedMinor })));
    await orm.em.getConnection().execute(
      `insert into bookings (id, user_id, workflow_id, idempotency_key, request_hash, status, total_minor, currency, passengers, contact_email, contact_phone, created_at, updated_at)
       select x.id, ?, 'booking-bench-' || x.id, x.key, repeat('0', 64), 'PENDING', x.minor, 'EUR', ?::jsonb, 'bench@example.test', 'v1:none', now(), now()
       from json_to_recordset(?::json) as x(id uuid, key uuid, item uuid, offer_id text, minor int)`,
      [userId, passengers, json],
    );
    await orm.em.getConnection().execute(
      `insert into booking_items (id, booking_id, offer_id, provider, kind, price_minor, currency, state)
       select x.item, x.id, x.offer_id, 'sandbox', 'flight', x.minor, 'EUR', 'PENDING'
       from json_to_recordset(?::json) as x(id uuid, key uuid, item uuid, offer_id text, minor int)`,
      [json],
    );
    return {
      inputs: rows.map((r) => ({
        bookingId: r.id,
        userId,
        seats: 1,
        offers: [{ offerId: r.offerId, provider: 'sandbox', expectedMinor: r.expectedMinor, currency: 'EUR' }],
        paymentMethodId: 'pm_card_visa',
        compensationAlertAttempts: config.saga.compensationAlertAttempts,
        // A failed booking would otherwise keep its workflow open two minutes for the late-success sweep.
        lateSuccessSweepMs: 1_000,
      })),
    };
  }

  /** The activity deps of the worker process, with the booking repository reporting terminal statuses. */
  function depsFor(fakes: Fakes, onStatus: (bookingId: string, status: BookingStatus, at: number) => void) {
    const { deps, close } = createActivityDeps(config, orm, { providers: fakes.providers, payments: fakes.payments, keys, workflows: createWorkflowStarter(client, config.temporal.taskQueue) });
    const bookings: BookingRepository = {
      ...deps.bookings,
      async setStatus(bookingId, status, options) {
        const moved = await deps.bookings.setStatus(bookingId, status, options);
        onStatus(bookingId, status as BookingStatus, performance.now());
        return moved;
      },
    };
    return { deps: { ...deps, bookings }, close };
  }

  /** Resolves when every booking of the batch has a terminal status; records when each got it. */
  function tracker(batch: SagaBatch) {
    const pending = new Set(batch.inputs.map((i) => i.bookingId));
    const outcomes: Record<string, number> = {};
    const doneAt = new Map<string, number>();
    let resolve!: () => void;
    const all = new Promise<void>((r) => (resolve = r));
    const waiters = new Map<string, (at: number) => void>();
    return {
      all,
      doneAt,
      outcomes,
      /** Resolves with the time this booking reached a terminal status. */
      waitFor(bookingId: string) {
        const at = doneAt.get(bookingId);
        return at !== undefined ? Promise.resolve(at) : new Promise<number>((r) => waiters.set(bookingId, r));
      },
      onStatus(bookingId: string, status: BookingStatus, at: number) {
        if (!TERMINAL_STATUSES.has(status) || !pending.delete(bookingId)) return;
        outcomes[status] = (outcomes[status] ?? 0) + 1;
        doneAt.set(bookingId, at);
        waiters.get(bookingId)?.(at);
        if (pending.size === 0) resolve();
      },
    };
  }

  type SagaWorkflow = 'booking' | 'noop' | 'noopLocal';
  async function startSagas(batch: SagaBatch, taskQueue: string, workflow: SagaWorkflow) {
    await pool(batch.inputs, 20, async (input) => {
      await startSaga(input, taskQueue, workflow);
    });
  }

  // What BookingService.startSaga sends.
  function startSaga(input: BookingWorkflowInput, taskQueue: string, workflow: SagaWorkflow) {
    const options = {
      taskQueue,
      args: [input] as [BookingWorkflowInput],
      memo: { bookingId: input.bookingId, seats: input.seats, offers: input.offers.map((o) => o.offerId) },
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    };
    if (workflow === 'booking' && eager) {
      return eagerClient.workflow.start(bookingWorkflow, { ...options, workflowId: `booking-bench-${input.bookingId}`, requestEagerStart: true }).then((handle) => {
        if (handle.eagerlyStarted) eagerlyStarted += 1;
        return handle;
      });
    }
    return workflow === 'booking'
      ? client.workflow.start(bookingWorkflow, { ...options, workflowId: `booking-bench-${input.bookingId}` })
      : client.workflow.start(workflow === 'noop' ? 'noopSagaWorkflow' : 'noopSagaLocalStatusWorkflow', { ...options, workflowId: `noop-bench-${input.bookingId}` });
  }

  async function oursWorker(taskQueue: string, fakes: Fakes, onStatus: (bookingId: string, status: BookingStatus, at: number) => void, code: 'ours' | 'other' = 'ours') {
    const { deps, close } = depsFor(fakes, onStatus);
    const workerTuning = code === 'other' ? { ...tuning, workflowBundlePath: otherBundle } : tuning;
    const worker = await createBookingWorker({ connection, temporal: config.temporal, taskQueue, dataConverter, tuning: workerTuning, deps });
    return { worker, close };
  }

  async function noopWorker(taskQueue: string, onStatus: (bookingId: string, status: BookingStatus, at: number) => void) {
    const { workflowBundlePath: _path, ...rest } = tuning;
    const defined = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined));
    const activities: NoopSagaActivities = {
      async noopStep({ bookingId, step }) {
        if (step === 'setBookingStatus:CONFIRMED') onStatus(bookingId, 'CONFIRMED', performance.now());
        return { ok: true };
      },
    };
    const worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue,
      workflowBundle: { code: noopBundle },
      activities,
      dataConverter,
      ...defined,
    });
    return { worker, close: () => undefined };
  }

  return {
    orm,
    client,
    otherWorkflows,
    eager,
    eagerlyStarted: () => eagerlyStarted,
    tuning: Object.fromEntries(Object.entries(config.worker).filter(([, v]) => v !== undefined)),
    prepareBatch,
    tracker,
    startSagas,
    startSaga,
    startFakes: () => startFakes(env, config),
    oursWorker,
    noopWorker,
    inProcess(fakes: Fakes, onStatus: (bookingId: string, status: BookingStatus, at: number) => void) {
      const { deps, close } = depsFor(fakes, onStatus);
      return { run: createInProcessSaga(deps), close };
    },
    temporalCpu: () => (options.temporalPid ? cpuSecondsOf(options.temporalPid) : Number.NaN),
    selfCpu: selfCpuSeconds,
    async close() {
      await client.connection.close();
      await connection.close();
      await orm.close();
      keys.destroy();
      rmSync(bundles, { recursive: true, force: true });
    },
  };
}
export type SagaRig = Awaited<ReturnType<typeof createSagaRig>>;
