import type { Stack } from '../support/stack.js';
import type { FaultTargets } from './fault-targets.js';
import type { WorkerPool } from './worker-pool.js';

/** What the monkey does during one run; counts are spread at random over `windowMs`. */
export interface ChaosPlan {
  windowMs: number;
  workerKills: number;
  temporalRestarts: number;
  redisRestarts: number;
  stripeOutages: number;
  stripeOutageMs: number;
  /** Sandbox provider faults for the whole window (architecture: 30% errors, 5% time-outs). */
  providerFaults: { errorRate: number; timeoutRate: number; timeoutMs: number; latencyMs: number };
}

/** What was actually injected, for the report. */
export interface FaultCounts {
  workerKills: number;
  /** Bookings not yet terminal when each worker was killed. */
  bookingsInFlightAtKills: number[];
  temporalRestarts: number;
  redisRestarts: number;
  stripeOutages: number;
  stripeOutageMs: number;
  provider: { requests: number; injectedErrors: number; injectedTimeouts: number };
}

/** A small seeded generator (mulberry32), so a run's fault schedule can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Runs the plan against the suite's own servers and the stack's sandbox, then leaves everything
 * running and fault-free. `log` gets one line per fault; `inFlight` counts unfinished bookings.
 */
export async function unleash(
  plan: ChaosPlan,
  deps: { stack: Stack; targets: FaultTargets; pool: WorkerPool; random: () => number; log: (line: string) => void; inFlight: () => Promise<number> },
): Promise<FaultCounts> {
  const { stack, targets, pool, random, log } = deps;
  const began = Date.now();
  // Each kind at its own random moments within the window, the kinds overlapping freely.
  const moments = (count: number, lastingMs = 0) =>
    Array.from({ length: count }, () => 0.05 * plan.windowMs + random() * (0.9 * plan.windowMs - lastingMs)).sort((a, b) => a - b);
  const counts: FaultCounts = {
    workerKills: 0,
    bookingsInFlightAtKills: [],
    temporalRestarts: 0,
    redisRestarts: 0,
    stripeOutages: 0,
    stripeOutageMs: 0,
    provider: { requests: 0, injectedErrors: 0, injectedTimeouts: 0 },
  };

  async function each(times: number[], fault: (index: number) => Promise<void>) {
    for (const [index, moment] of times.entries()) {
      await sleep(began + moment - Date.now());
      await fault(index);
    }
  }

  const statsOf = async () => (await (await fetch(`${stack.sandboxUrl}/_control/stats`)).json()) as FaultCounts['provider'];
  const before = await statsOf();
  await stack.setFaults(plan.providerFaults);
  log(`provider faults on: ${JSON.stringify(plan.providerFaults)}`);
  await Promise.all([
    each(moments(plan.workerKills), async () => {
      const inFlight = await deps.inFlight();
      if (!(await pool.killOne(random()))) return;
      counts.workerKills += 1;
      counts.bookingsInFlightAtKills.push(inFlight);
      log(`SIGKILL a worker (${inFlight} bookings in flight)`);
      await sleep(random() * 3_000);
      pool.fill();
    }),
    each(moments(plan.temporalRestarts), async (index) => {
      // A crash and a clean stop by turns: the server comes back on its database either way.
      const signal = index % 2 === 0 ? 'SIGKILL' : 'SIGTERM';
      const down = Date.now();
      await targets.temporal.stop(signal);
      await sleep(1_000);
      await targets.temporal.start();
      counts.temporalRestarts += 1;
      log(`Temporal restarted after ${signal} (down ${((Date.now() - down) / 1000).toFixed(1)}s)`);
    }),
    each(moments(plan.redisRestarts), async () => {
      const down = Date.now();
      await targets.redis.stop('SIGKILL');
      await sleep(1_000);
      await targets.redis.start();
      counts.redisRestarts += 1;
      log(`Redis restarted, empty (down ${((Date.now() - down) / 1000).toFixed(1)}s)`);
    }),
    each(moments(plan.stripeOutages, plan.stripeOutageMs), async () => {
      // Frozen, not killed: connections hang as behind a dead network, and the fake keeps its
      // idempotency records and request log, which a restart would lose.
      targets.stripe.signal('SIGSTOP');
      log(`Stripe fake unreachable (SIGSTOP) for ${plan.stripeOutageMs / 1000}s`);
      await sleep(plan.stripeOutageMs);
      targets.stripe.signal('SIGCONT');
      counts.stripeOutages += 1;
      counts.stripeOutageMs += plan.stripeOutageMs;
      log(`Stripe fake reachable again (SIGCONT)`);
    }),
    sleep(plan.windowMs),
  ]);
  await stack.setFaults({});
  pool.fill();
  const after = await statsOf();
  counts.provider = {
    requests: after.requests - before.requests,
    injectedErrors: after.injectedErrors - before.injectedErrors,
    injectedTimeouts: after.injectedTimeouts - before.injectedTimeouts,
  };
  log(`provider faults off`);
  return counts;
}
