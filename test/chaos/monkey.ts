import { randomUUID } from 'node:crypto';
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
  providerFaults: { errorRate: number; timeoutRate: number; timeoutMs: number; latencyMs: number; holdTtlMsByOffer?: Record<string, number> };
  /** An operator cancels a running saga from the Web UI or the CLI (a workflow cancellation request). */
  operatorCancels: number;
  /** An operator terminates a running saga: nothing of it runs again; the reconciler must find what it left. */
  operatorTerminates: number;
  /** Stripe's webhooks delivered again, some twice, out of order, some under a new event id. */
  webhookReplays: number;
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
  /** Workflow ids of the sagas an operator cancelled, and of those terminated. */
  cancelledSagas: string[];
  terminatedSagas: string[];
  /** Webhook deliveries sent again (each answered 2xx or it is counted as refused). */
  webhooksReplayed: number;
  webhooksRefused: number;
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
    cancelledSagas: [],
    terminatedSagas: [],
    webhooksReplayed: 0,
    webhooksRefused: 0,
  };

  async function each(times: number[], fault: (index: number) => Promise<void>) {
    for (const [index, moment] of times.entries()) {
      await sleep(began + moment - Date.now());
      await fault(index);
    }
  }

  async function replayOnce() {
    const { sent, refused } = await replayWebhooks(stack, random).catch((error: Error) => {
      log(`webhook replay failed: ${error.message}`);
      return { sent: 0, refused: 0 };
    });
    counts.webhooksReplayed += sent;
    counts.webhooksRefused += refused;
    if (sent > 0) log(`${sent} Stripe webhooks delivered again, shuffled (${refused} refused)`);
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
    each(moments(plan.operatorCancels + plan.operatorTerminates), async () => {
      // Cancels and terminations by turns at random: a running saga, picked at random.
      const terminate = counts.terminatedSagas.length < plan.operatorTerminates &&
        (counts.cancelledSagas.length >= plan.operatorCancels || random() < 0.5);
      // Half of them aimed at the dangerous phase: money authorized, tickets being issued or about to be.
      const actedOn = new Set([...counts.cancelledSagas, ...counts.terminatedSagas]);
      const workflowId = await runningSaga(stack, random, actedOn, random() < 0.5 ? 'AUTHORIZED' : undefined).catch(() => undefined);
      if (!workflowId) return log(`operator: no running saga to ${terminate ? 'terminate' : 'cancel'}`);
      const handle = stack.temporal.workflow.getHandle(workflowId);
      try {
        if (terminate) await handle.terminate('chaos: an operator terminates the saga');
        else await handle.cancel();
      } catch (error) {
        // The client retries a call whose answer was lost (Temporal restarting): the retry of a
        // termination the server had already applied fails as 'already completed'. Ask the server.
        const status = terminate ? (await handle.describe().catch(() => undefined))?.status.name : undefined;
        if (status !== 'TERMINATED') {
          return log(`operator: ${terminate ? 'terminating' : 'cancelling'} ${workflowId} failed: ${(error as Error).message}`);
        }
      }
      (terminate ? counts.terminatedSagas : counts.cancelledSagas).push(workflowId);
      log(`operator ${terminate ? 'terminated' : 'cancelled'} ${workflowId}`);
    }),
    each(moments(plan.webhookReplays), replayOnce),
    sleep(plan.windowMs),
  ]);
  // Once more with Stripe surely back, while sagas still run: an outage may have covered every moment
  // above, and right after it there may be no event yet to deliver again.
  for (let tries = 0; counts.webhooksReplayed === 0 && tries < 30; tries += 1) {
    await replayOnce();
    if (counts.webhooksReplayed === 0) await sleep(2_000);
  }
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

/** Running booking sagas of this stack (the suite's Temporal serves only this stack), in a payment state if named. */
async function runningSagas(stack: Stack, paymentState?: string): Promise<string[]> {
  const ids: string[] = [];
  const phase = paymentState ? ` AND PaymentState = "${paymentState}"` : '';
  for await (const execution of stack.temporal.workflow.list({ query: `WorkflowType = "bookingWorkflow" AND ExecutionStatus = "Running"${phase}` })) {
    ids.push(execution.workflowId);
    if (ids.length >= 200) break;
  }
  return ids;
}

/** One running saga not acted on yet, picked at random: in the payment state asked for when there is one, else any. */
async function runningSaga(stack: Stack, random: () => number, actedOn: ReadonlySet<string>, paymentState?: string): Promise<string | undefined> {
  const fresh = (ids: string[]) => ids.filter((id) => !actedOn.has(id));
  let ids = paymentState ? fresh(await runningSagas(stack, paymentState)) : [];
  if (ids.length === 0) ids = fresh(await runningSagas(stack));
  return ids.length ? ids[Math.floor(random() * ids.length)] : undefined;
}

/**
 * Stripe delivers at least once and in no set order. Takes the fake's events of the last two minutes
 * about sagas still running and sends a shuffled sample of them again, signed as Stripe signs them
 * now: some under their own id (a redelivery, which the API must recognise), the others under a new
 * id (another event about the same PaymentIntent), a third of those with the opposite news (a
 * failure for an authorized payment, an authorization before the challenge is done). The saga must
 * take a webhook as a reason to read Stripe, never as the payment's state.
 */
async function replayWebhooks(stack: Stack, random: () => number): Promise<{ sent: number; refused: number }> {
  const running = new Set(await runningSagas(stack));
  const since = Math.floor(Date.now() / 1000) - 120;
  const events = (await stack.stripe.events.list({ created: { gte: since }, limit: 100 }, { timeout: 10_000 })).data;
  const about = (event: (typeof events)[number]) => (event.data.object as { metadata?: Record<string, string> }).metadata?.workflowId ?? '';
  const sample = events.filter((event) => running.has(about(event)) && random() < 0.5);
  for (let i = sample.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [sample[i], sample[j]] = [sample[j]!, sample[i]!];
  }
  const opposite: Record<string, string> = {
    'payment_intent.amount_capturable_updated': 'payment_intent.payment_failed',
    'payment_intent.payment_failed': 'payment_intent.amount_capturable_updated',
    'payment_intent.succeeded': 'payment_intent.payment_failed',
  };
  let sent = 0;
  let refused = 0;
  for (const event of sample) {
    const copies = random() < 0.3 ? 2 : 1;
    const anew = random() < 0.5;
    const flipped = anew && random() < 0.33 && opposite[event.type];
    const payload = JSON.stringify(
      anew ? { ...event, id: `evt_chaos_${randomUUID().replaceAll('-', '')}`, ...(flipped ? { type: flipped } : {}) } : event,
    );
    for (let copy = 0; copy < copies; copy += 1) {
      const header = stack.stripe.webhooks.generateTestHeaderString({ payload, secret: stack.config.stripe.webhookSecret });
      const answer = await stack.app.request('/api/v1/webhooks/stripe', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': header },
        body: payload,
      });
      sent += 1;
      if (answer.status >= 300) refused += 1;
    }
  }
  return { sent, refused };
}
