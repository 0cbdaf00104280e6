import { randomUUID } from 'node:crypto';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import * as hdr from 'hdr-histogram-js';
import { pino } from 'pino';
import { loadConfig } from '../infra/config.js';
import { bookingWorkflow, type BookingWorkflowInput } from '../workflows/booking.workflow.js';
import { benchEnv, composeApi, cpuSecondsOf, mintUsers, pool, prepareBench, progress, QUICK, selfCpuSeconds, startBenchTemporal, startChild, stopChild } from './bench-stack.js';
import { alternate, report } from './harness.js';
import { httpLoad } from './http-load.js';
import { bookingWorkflowId } from '../domain/booking-ids.js';

/**
 * booking-start: POST /api/v1/bookings → 202 through the whole app (bearer token and session,
 * per-user booking limit in Redis, validation, idempotency lookup, PII encryption, the booking's
 * rows in one transaction, then the saga's start) against a bare loop of client.workflow.start of
 * the same workflow with the same options, at the same concurrency and count. Both start on a
 * task queue of this run with NO worker polling it: the sagas never run; every workflow started
 * is terminated after each run, outside the timed part, so each run meets the same server state.
 * The API runs in a child process (bench/api-server.ts); autocannon and the bare loop run here.
 */
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? (QUICK ? 150 : 1000));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 2 : 3));
const CONCURRENCY = Number(process.env.BENCH_CONNECTIONS ?? 20);
// The booking limit is 20 a day per user: enough users that nobody reaches it.
const USERS = Math.ceil(((ROUNDS + 1) * REQUESTS) / 15);

const taskQueue = `bench-start-${randomUUID()}`;
const services = await startBenchTemporal();
const env = benchEnv({ TEMPORAL_TASK_QUEUE: taskQueue, ...services.env });
const config = loadConfig(env);
await prepareBench(config);
const api = await startChild<{ pid: number; ports: Record<'on', number> }>('bench/api-server.ts', { ...env, BENCH_LIMITERS: 'on', BENCH_TASK_QUEUE: taskQueue });
const local = await composeApi(config, { log: pino({ level: 'silent' }), taskQueue });
progress(`minting ${USERS} users`);
const users = await mintUsers(local.orm, local.auth, USERS);
const temporalPid = services.pid;

const offerId = 'sandbox:SBX-JFKLHR-20270301-Y-0-m0000000';
const body = JSON.stringify({
  offers: [{ offerId, expectedPrice: { amount: '123.45', currency: 'EUR' } }],
  passengers: [{ givenName: 'Ada', familyName: 'Lovelace', dateOfBirth: '1985-12-10', passportNumber: 'X1234567', passportCountry: 'GB', nationality: 'GB' }],
  contact: { email: 'ada@example.com', phone: '+447700900123' },
  paymentMethodId: 'pm_card_visa',
});
let nextUser = 0;
const takeUser = () => users[nextUser++ % users.length]!;
let started: string[] = [];

async function terminateAll(): Promise<number> {
  const ids = started;
  started = [];
  await pool(ids, 20, async (workflowId) => {
    await local.temporal.workflow.getHandle(workflowId).terminate('benchmark cleanup').catch(() => undefined);
  });
  return ids.length;
}

interface StartRun {
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  failures: number;
  cpuSeconds: { api?: number; client: number; temporalServer: number };
}

async function viaApi(): Promise<StartRun> {
  const temporalBefore = temporalPid ? cpuSecondsOf(temporalPid) : Number.NaN;
  const result = await httpLoad({
    url: `http://127.0.0.1:${api.ready.ports.on}/api/v1/bookings`,
    serverPid: api.ready.pid,
    connections: CONCURRENCY,
    amount: REQUESTS,
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
    perRequest: () => {
      const user = takeUser();
      const key = randomUUID();
      started.push(bookingWorkflowId(user.userId, key));
      return { authorization: user.authorization, 'idempotency-key': key };
    },
  });
  const failures = REQUESTS - (result.statusCodes['202'] ?? 0);
  if (failures > 0) progress(`api: ${failures} answers were not 202: ${JSON.stringify(result.statusCodes)}`);
  const run = {
    rps: result.rps,
    p50: result.p50,
    p95: result.p95,
    p99: result.p99,
    failures,
    cpuSeconds: { api: result.cpuSeconds.server, client: result.cpuSeconds.loadGenerator, temporalServer: temporalPid ? cpuSecondsOf(temporalPid) - temporalBefore : Number.NaN },
  };
  progress(`api: ${Math.round(run.rps)}/s p95 ${run.p95} ms; terminated ${await terminateAll()}`);
  return run;
}

async function bareStart(): Promise<StartRun> {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const inputs = Array.from({ length: REQUESTS }, () => {
    const user = takeUser();
    const key = randomUUID();
    const input: BookingWorkflowInput = {
      bookingId: randomUUID(),
      userId: user.userId,
      seats: 1,
      offers: [{ offerId, provider: 'sandbox', expectedMinor: 12_345, currency: 'EUR' }],
      paymentMethodId: 'pm_card_visa',
      compensationAlertAttempts: config.saga.compensationAlertAttempts,
      lateSuccessSweepMs: config.saga.lateSuccessSweepMs,
    };
    return { workflowId: bookingWorkflowId(user.userId, key), input };
  });
  const temporalBefore = temporalPid ? cpuSecondsOf(temporalPid) : Number.NaN;
  const cpuBefore = selfCpuSeconds();
  let failures = 0;
  const begun = performance.now();
  await pool(inputs, CONCURRENCY, async ({ workflowId, input }) => {
    const sent = performance.now();
    try {
      // What BookingService.startSaga sends.
      await local.temporal.workflow.start(bookingWorkflow, {
        workflowId,
        taskQueue,
        args: [input],
        memo: { bookingId: input.bookingId, seats: input.seats, offers: input.offers.map((o) => o.offerId) },
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
      started.push(workflowId);
    } catch {
      failures += 1;
    }
    histogram.recordValue(Math.max(1, Math.round((performance.now() - sent) * 1000)));
  });
  const seconds = (performance.now() - begun) / 1000;
  const ms = (p: number) => histogram.getValueAtPercentile(p) / 1000;
  const run = {
    rps: REQUESTS / seconds,
    p50: ms(50),
    p95: ms(95),
    p99: ms(99),
    failures,
    cpuSeconds: { client: selfCpuSeconds() - cpuBefore, temporalServer: temporalPid ? cpuSecondsOf(temporalPid) - temporalBefore : Number.NaN },
  };
  histogram.destroy();
  progress(`bare start: ${Math.round(run.rps)}/s p95 ${run.p95} ms; terminated ${await terminateAll()}`);
  return run;
}

const result = await alternate({ rounds: ROUNDS, baseline: bareStart, subject: viaApi, figure: (r) => r.rps });
const last = { api: result.subject.at(-1)!, bare: result.baseline.at(-1)! };
report(
  'booking-start',
  `POST /bookings ${Math.round(last.api.rps)}/s (p95 ${last.api.p95} ms) vs bare workflow.start ${Math.round(last.bare.rps)}/s (p95 ${last.bare.p95} ms)`,
  result.ratio,
  {
    settings: {
      requestsPerRun: REQUESTS,
      concurrency: CONCURRENCY,
      rounds: ROUNDS,
      users: USERS,
      taskQueue: 'one per benchmark run, no worker polling it; every started workflow terminated after each run',
      temporal: services.describe,
      processes: 'API in a child process (bench/api-server.ts); autocannon and the bare loop in the bench process',
    },
    goal: '>= 0.80 of the raw start rate',
    api: result.subject,
    bare: result.baseline,
    ratios: result.ratios,
  },
);
await stopChild(api.child);
await local.close();
await services.stop();
process.exit(0);
