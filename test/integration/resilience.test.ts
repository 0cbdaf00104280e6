import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Booking, Payment } from '../../infra/db/entities.js';
import { startStack, type Stack } from '../support/stack.js';
import { probesOf } from '../support/probes.js';
import { json, travellerOf } from '../support/booking-client.js';

let stack: Stack;
const workers: ChildProcess[] = [];

function startWorkerProcess(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/booking.worker.ts'], { env: stack.workerEnv, stdio: 'ignore' });
  workers.push(child);
  return child;
}

beforeAll(async () => {
  stack = await startStack({ inProcessWorker: false });
});
async function killWorkers() {
  await Promise.all(
    workers.splice(0).map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.exitCode !== null || worker.signalCode !== null) return resolve();
          worker.once('exit', () => resolve());
          worker.kill('SIGKILL');
        }),
    ),
  );
}
afterEach(async () => {
  await killWorkers();
  await stack.setFaults({});
});
afterAll(async () => {
  await killWorkers();
  await stack?.stop();
});

/** Books `count` seats on different days, so every booking has inventory. */
async function bookBatch(count: number, firstDay: number) {
  const bodies = [];
  for (let i = 0; i < count; i += 1) {
    const traveller = await travellerOf(stack);
    const day = String(firstDay + i).padStart(2, '0');
    bodies.push({ traveller, body: await traveller.bookingBody({}, { departureDate: `2027-03-${day}` }) });
  }
  return { bodies };
}

/** Every booking terminal, and Postgres, the provider and Stripe agree about it. */
async function checkInvariants(bookingIds: string[], expected: string) {
  const log = await probesOf(stack).stripeRequests();
  for (const bookingId of bookingIds) {
    const booking = await stack.orm.em.fork().findOneOrFail(Booking, { id: bookingId }, { populate: ['items'] });
    expect(booking.status).toBe(expected);
    const payments = await stack.orm.em.fork().find(Payment, { booking: bookingId });
    expect(payments).toHaveLength(1); // one PaymentIntent per booking, whatever was retried
    const intent = await stack.stripe.paymentIntents.retrieve(payments[0]!.paymentIntentId);
    expect(intent.status).toBe(expected === 'CONFIRMED' ? 'succeeded' : 'canceled');
    const captures = log.filter((r) => r.path === `/v1/payment_intents/${intent.id}/capture` && r.status === 200 && !r.replayed);
    expect(captures.length).toBeLessThanOrEqual(1);
    for (const item of booking.items) {
      const response = await fetch(`${stack.sandboxUrl}/v1/holds/${item.holdId}`);
      expect(((await response.json()) as { state: string }).state).toBe(expected === 'CONFIRMED' ? 'CONFIRMED' : 'RELEASED');
    }
  }
}

describe('resilience', () => {
  it('confirms every booking that has inventory while the provider fails 30% of calls', { timeout: 180_000 }, async () => {
    startWorkerProcess(); // bookings wait on the task queue until it polls
    const { bodies } = await bookBatch(8, 1);
    await stack.setFaults({ errorRate: 0.3 });
    const ids = await Promise.all(bodies.map(async ({ traveller, body }) => (await json(await traveller.book(body))).bookingId as string));
    const settled = await Promise.all(ids.map((id, i) => bodies[i]!.traveller.settled(id, 150_000)));
    expect(settled.map((b) => b.status)).toEqual(ids.map(() => 'CONFIRMED'));
    const stats = (await (await fetch(`${stack.sandboxUrl}/_control/stats`)).json()) as { injectedErrors: number };
    expect(stats.injectedErrors).toBeGreaterThan(0);
    await stack.setFaults({});
    await checkInvariants(ids, 'CONFIRMED');
  });

  it('finishes a batch whose worker is SIGKILLed midway, charging nobody twice', { timeout: 240_000 }, async () => {
    const { bodies } = await bookBatch(12, 11);
    // Slow provider calls keep activities in flight when the worker dies.
    await stack.setFaults({ latencyMs: 300 });
    const first = startWorkerProcess();
    const ids = await Promise.all(bodies.map(async ({ traveller, body }) => (await json(await traveller.book(body))).bookingId as string));
    await new Promise((r) => setTimeout(r, 2_500));
    first.kill('SIGKILL');
    const unfinished = await stack.orm.em.fork().count(Booking, { id: { $in: ids }, status: { $nin: ['CONFIRMED', 'FAILED'] } });
    expect(unfinished).toBeGreaterThan(0); // the kill really landed mid-batch
    startWorkerProcess();
    const settled = await Promise.all(ids.map((id, i) => bodies[i]!.traveller.settled(id, 200_000)));
    expect(settled.map((b) => b.status)).toEqual(ids.map(() => 'CONFIRMED'));
    await stack.setFaults({});
    await checkInvariants(ids, 'CONFIRMED');
  });
});
