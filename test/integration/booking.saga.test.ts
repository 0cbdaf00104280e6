import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Booking } from '../../infra/db/entities.js';
import { eventually } from '../support/eventually.js';
import { probesOf } from '../support/probes.js';
import { startStack, type Stack } from '../support/stack.js';
import { json, travellerOf } from '../support/booking-client.js';
import { bookingWorkflowId } from '../../domain/booking-ids.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { COMPENSATION_ALERT_ATTEMPTS: '2', LATE_SUCCESS_SWEEP_MS: '3000' } });
});
afterAll(async () => {
  await stack?.stop();
});

const holdAtProvider = (bookingId: string) => probesOf(stack).holdOf(bookingId);
const paymentOf = (bookingId: string) => probesOf(stack).paymentOf(bookingId);

async function stripeKeysFor(workflowId: string): Promise<string[]> {
  const requests = await probesOf(stack).stripeRequests();
  return requests.map((r) => r.idempotencyKey).filter((k): k is string => !!k && k.startsWith(workflowId));
}

describe('booking saga through the API, Temporal, Postgres, localstripe and the sandbox provider', () => {
  it('confirms a booking: provider hold confirmed, payment captured, rows agree', async () => {
    const traveller = await travellerOf(stack);
    const response = await traveller.book(await traveller.bookingBody());
    expect(response.status).toBe(202);
    const { bookingId, status } = (await response.json()) as { bookingId: string; status: string };
    expect(status).toBe('PENDING');

    const booking = await traveller.settled(bookingId);
    expect(booking.status).toBe('CONFIRMED');
    expect(booking.items[0].state).toBe('CONFIRMED');
    expect(booking.items[0].confirmationCode).toMatch(/^PNR/);
    expect(booking.payment.status).toBe('CAPTURED');
    expect(booking.passengers[0].passportNumber).toMatch(/^\*+[A-Z0-9]{3}$/);

    const { hold, booking: row } = await holdAtProvider(bookingId);
    expect(hold?.state).toBe('CONFIRMED');
    const { intent } = await paymentOf(bookingId);
    expect(intent.status).toBe('succeeded');
    expect(intent.amount).toBe(row.totalMinor);

    // Every Stripe call of the booking carried a key derived from its workflow id.
    const keys = await stripeKeysFor(row.workflowId);
    expect(keys).toEqual(expect.arrayContaining([`${row.workflowId}:create-payment-intent`, `${row.workflowId}:confirm-payment-intent`, `${row.workflowId}:capture`]));

    // Operators see it: the CLI lists the workflow with its search attribute.
    const listed = execFileSync(
      '.tools/bin/temporal',
      ['workflow', 'list', '--address', stack.config.temporal.address, '--namespace', stack.config.temporal.namespace, '--query', `WorkflowId='${row.workflowId}' AND BookingStatus='CONFIRMED'`, '--output', 'json'],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(listed)).toHaveLength(1);
    // ...and so does the Web UI, through the same HTTP API its pages call.
    const ui = await fetch(
      `${stack.config.temporal.uiUrl}/api/v1/namespaces/${stack.config.temporal.namespace}/workflows?query=${encodeURIComponent(`WorkflowId='${row.workflowId}'`)}`,
    );
    const { executions } = (await ui.json()) as { executions: Array<{ type: { name: string } }> };
    expect(executions.map((e) => e.type.name)).toEqual(['bookingWorkflow']);
  });

  it('returns the same booking for the same key and body, and starts no second workflow', async () => {
    const traveller = await travellerOf(stack);
    const body = await traveller.bookingBody();
    const key = randomUUID();
    const [first, second] = await Promise.all([traveller.book(body, key), traveller.book(body, key)]);
    const ids = [(await json(first)).bookingId, (await json(second)).bookingId];
    expect(ids[0]).toBeTruthy();
    expect(ids[1]).toBe(ids[0]);
    expect([first.status, second.status].sort()).toEqual([200, 202]);
    await traveller.settled(ids[0]);

    const again = await traveller.book(body, key);
    expect(again.status).toBe(200);
    expect((await json(again)).bookingId).toBe(ids[0]);

    const rows = await stack.orm.em.fork().count(Booking, { idempotencyKey: key });
    expect(rows).toBe(1);
    const workflowId = bookingWorkflowId(traveller.userId, key);
    let runs = 0;
    for await (const _ of stack.temporal.workflow.list({ query: `WorkflowId='${workflowId}'` })) runs += 1;
    expect(runs).toBe(1);
    expect(await stripeKeysFor(workflowId)).toEqual([`${workflowId}:create-payment-intent`, `${workflowId}:confirm-payment-intent`, `${workflowId}:capture`]);
  });

  it('retries Stripe calls whose responses were lost with the same keys, creating one PaymentIntent', async () => {
    const traveller = await travellerOf(stack);
    const key = randomUUID();
    const workflowId = bookingWorkflowId(traveller.userId, key);
    const fault = await fetch(`${stack.config.stripe.apiUrl}/_tc/lost-responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ keyPrefix: `${workflowId}:`, count: 2 }),
    });
    expect(fault.ok).toBe(true);

    const { bookingId } = await json(await traveller.book(await traveller.bookingBody(), key));
    expect((await traveller.settled(bookingId)).status).toBe('CONFIRMED');

    const log = await probesOf(stack).stripeRequests();
    const create = log.filter((r) => r.idempotencyKey === `${workflowId}:create-payment-intent`);
    // The first answer was lost after Stripe acted; the retry carried the same key and got the same intent.
    expect(create.map((r) => [r.lostResponse, r.replayed])).toEqual([
      [true, false],
      [false, true],
    ]);
    // The confirmation's answer was lost too: the retry read the PaymentIntent, found it authorized, and confirmed nothing again.
    expect(log.filter((r) => r.idempotencyKey === `${workflowId}:confirm-payment-intent`).map((r) => r.lostResponse)).toEqual([true]);
    expect((await probesOf(stack).paymentIntents()).filter((i) => i.metadata.workflowId === workflowId)).toHaveLength(1);
    const { payment, intent } = await paymentOf(bookingId);
    expect(payment.status).toBe('CAPTURED');
    expect(intent.status).toBe('succeeded');
  });

  it('refuses the same key with another body (422) and a missing key (400), as problem+json', async () => {
    const traveller = await travellerOf(stack);
    const body = await traveller.bookingBody();
    const key = randomUUID();
    expect((await traveller.book(body, key)).status).toBe(202);

    const reused = await traveller.book({ ...body, notes: 'window seat' }, key);
    expect(reused.status).toBe(422);
    expect(reused.headers.get('content-type')).toContain('application/problem+json');
    expect((await json(reused)).code).toBe('IDEMPOTENCY_KEY_REUSED');

    const missing = await traveller.book(body, null);
    expect(missing.status).toBe(400);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    const problem = await json(missing);
    expect(problem).toMatchObject({ status: 400, code: 'IDEMPOTENCY_KEY_MISSING' });
    expect(problem.requestId).toBe(missing.headers.get('x-request-id'));
  });

  it('releases the hold and voids the payment when the provider rejects confirmation', async () => {
    const traveller = await travellerOf(stack);
    const body = await traveller.bookingBody();
    await stack.setFaults({ rejectConfirm: true });
    try {
      const { bookingId } = await json(await traveller.book(body));
      const booking = await traveller.settled(bookingId);
      expect(booking.status).toBe('FAILED');
      expect(booking.failure.code).toBe('PROVIDER_REJECTED');

      const { hold, item } = await holdAtProvider(bookingId);
      expect(hold?.state).toBe('RELEASED');
      expect(item.state).toBe('RELEASED');
      const { payment, intent } = await paymentOf(bookingId);
      expect(payment.status).toBe('VOIDED');
      expect(intent.status).toBe('canceled');
    } finally {
      await stack.setFaults({});
    }
  });

  it('flags NEEDS_ATTENTION while an undo keeps failing, and finishes the undo once the provider recovers', async () => {
    const traveller = await travellerOf(stack);
    const body = await traveller.bookingBody();
    await stack.setFaults({ rejectConfirm: true, failRelease: true });
    try {
      const { bookingId } = await json(await traveller.book(body));
      const booking = await traveller.reaches(bookingId, 'NEEDS_ATTENTION');
      expect(booking.failure.code).toBe('COMPENSATION_STUCK');
      expect((await holdAtProvider(bookingId)).hold?.state).toBe('HELD');

      await stack.setFaults({});
      const settled = await traveller.settled(bookingId, 90_000);
      expect(settled.status).toBe('FAILED');
      expect(settled.failure.code).toBe('PROVIDER_REJECTED');
      expect((await holdAtProvider(bookingId)).hold?.state).toBe('RELEASED');
      expect((await paymentOf(bookingId)).intent.status).toBe('canceled');
    } finally {
      await stack.setFaults({});
    }
  });

  it('releases a hold the provider granted after refusing it (late success)', async () => {
    const traveller = await travellerOf(stack);
    const body = await traveller.bookingBody();
    await stack.setFaults({ lateHoldAfterRefusalMs: 500 });
    let bookingId: string;
    try {
      bookingId = (await json(await traveller.book(body))).bookingId;
      const booking = await traveller.settled(bookingId);
      expect(booking.status).toBe('FAILED');
      expect(booking.failure.code).toBe('SOLD_OUT');
    } finally {
      await stack.setFaults({});
    }
    const states: string[] = [];
    await eventually(
      async () => {
        const state = (await holdAtProvider(bookingId)).hold?.state ?? 'NONE';
        if (states.at(-1) !== state) states.push(state);
        return state;
      },
      (state) => state === 'RELEASED',
      { intervalMs: 100, timeoutMs: 20_000, what: 'the late hold to be released' },
    );
    // The provider granted the hold after the saga gave up; the later sweep released it.
    expect(states).toContain('HELD');
    expect(states.at(-1)).toBe('RELEASED');
  });

  it('fails a declined card with PAYMENT_DECLINED and releases the hold', async () => {
    const traveller = await travellerOf(stack);
    const { bookingId } = await json(await traveller.book(await traveller.bookingBody({ paymentMethodId: 'pm_card_visa_chargeDeclined' })));
    const booking = await traveller.settled(bookingId);
    expect(booking.status).toBe('FAILED');
    expect(booking.failure.code).toBe('PAYMENT_DECLINED');
    const { hold, booking: row } = await holdAtProvider(bookingId);
    expect(hold?.state).toBe('RELEASED');
    // Stripe declined the confirmation; the PaymentIntent created before it was voided: nothing is left open.
    expect(booking.payment.status).toBe('VOIDED');
    const confirm = (await probesOf(stack).stripeRequests()).filter((r) => r.idempotencyKey === `${row.workflowId}:confirm-payment-intent`);
    expect(confirm.length).toBeGreaterThan(0);
    expect(confirm.every((r) => r.status === 402)).toBe(true);
    expect((await paymentOf(bookingId)).intent.status).toBe('canceled');
  });

  it('fails with PRICE_CHANGED when the provider re-prices above what the client saw', async () => {
    const traveller = await travellerOf(stack);
    const body = await traveller.bookingBody();
    await stack.setFaults({ priceIncreasePercent: 10 });
    try {
      const { bookingId } = await json(await traveller.book(body));
      const booking = await traveller.settled(bookingId);
      expect(booking.status).toBe('FAILED');
      expect(booking.failure.code).toBe('PRICE_CHANGED');
      // Refused before any side effect: no hold at the provider, no call to Stripe.
      expect(booking.payment).toBeNull();
      const { hold, booking: row } = await holdAtProvider(bookingId);
      expect(hold).toBeUndefined();
      expect(await stripeKeysFor(row.workflowId)).toEqual([]);
    } finally {
      await stack.setFaults({});
    }
  });
});
