import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromMinor, type Currency } from '../../domain/money.js';
import { AuditEntry, Payment } from '../../infra/db/entities.js';
import { json, travellerOf } from '../support/booking-client.js';
import { signIn } from '../support/sign-in.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;
let admin: Awaited<ReturnType<typeof signIn>>;
beforeAll(async () => {
  stack = await startStack();
  admin = await signIn(stack, { role: 'admin' });
});
afterAll(async () => {
  await stack?.stop();
});

function refund(bookingId: string, body: unknown, key: string | null = randomUUID(), auth = admin.auth) {
  return stack.app.request(`/api/v1/admin/bookings/${bookingId}/refund`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify(body),
  });
}

async function confirmedBooking(paymentMethodId = 'pm_card_visa') {
  const traveller = await travellerOf(stack);
  const { bookingId } = await json(await traveller.book(await traveller.bookingBody({ paymentMethodId })));
  const booking = await traveller.settled(bookingId);
  const payment = await stack.orm.em.fork().findOne(Payment, { booking: bookingId });
  return { traveller, bookingId, booking, payment };
}

const paymentOf = async (bookingId: string) => stack.orm.em.fork().findOneOrFail(Payment, { booking: bookingId });
const refundsAt = async (paymentIntentId: string) => (await stack.stripe.refunds.list({ payment_intent: paymentIntentId, limit: 100 })).data;
/** Waits for the refund workflow the answer names. */
const finished = (refundId: string) => stack.temporal.workflow.getHandle(refundId).result() as Promise<{ status: string; refundedMinor: number }>;

describe('POST /admin/bookings/{id}/refund (issue 12)', () => {
  it('refunds in full once per key: Stripe shows one refund of the capture, payment and booking REFUNDED, audited', async () => {
    const { traveller, bookingId, booking, payment } = await confirmedBooking();
    expect(booking.status).toBe('CONFIRMED');
    expect(payment?.status).toBe('CAPTURED');
    const captured = payment!.amountMinor;
    const key = randomUUID();

    const first = await refund(bookingId, { reason: 'flight cancelled by the airline' }, key);
    expect(first.status).toBe(202);
    const { refundId, status } = await json(first);
    expect(refundId).toBe(`refund-${bookingId}-${key}`);
    expect(status).toBe('ACCEPTED');
    expect(await finished(refundId)).toMatchObject({ status: 'REFUNDED', refundedMinor: captured });

    expect((await refundsAt(payment!.paymentIntentId)).map((r) => r.amount)).toEqual([captured]);
    expect(await paymentOf(bookingId)).toMatchObject({ status: 'REFUNDED', refundedMinor: captured });
    expect((await traveller.reaches(bookingId, 'REFUNDED')).status).toBe('REFUNDED');

    // The same key again: the same refund, how it ended, and no second one at Stripe.
    const again = await refund(bookingId, { reason: 'flight cancelled by the airline' }, key);
    expect(again.status).toBe(202);
    expect(await json(again)).toEqual({ refundId, status: 'REFUNDED' });
    expect(await refundsAt(payment!.paymentIntentId)).toHaveLength(1);

    // Another key: nothing is left to refund.
    const more = await refund(bookingId, { reason: 'again' });
    expect(more.status).toBe(422);
    expect((await json(more)).code).toBe('REFUND_EXCEEDS_CAPTURE');

    const rows = await stack.orm.em.fork().find(AuditEntry, { action: 'admin.booking.refund', resource: `booking:${bookingId}` }, { orderBy: { seq: 'asc' } });
    expect(rows.map((r) => [r.actor, r.result])).toEqual([
      [`user:${admin.userId}`, 'accepted'],
      [`user:${admin.userId}`, 'accepted'],
      [`user:${admin.userId}`, 'REFUND_EXCEEDS_CAPTURE'],
    ]);
    expect(rows[0]!.details).toMatchObject({ refundId, reasonLength: 'flight cancelled by the airline'.length });
    expect(JSON.stringify(rows.map((r) => r.details))).not.toContain('airline');
    // The refund's own changes are the refund workflow's in the trail, not the booking saga's.
    const changes = await stack.orm.em
      .fork()
      .find(AuditEntry, { resource: `booking:${bookingId}`, action: { $in: ['payment.refunded', 'booking.status_changed'] }, result: 'REFUNDED' }, { orderBy: { seq: 'asc' } });
    expect(changes.map((r) => [r.actor, r.action])).toEqual([
      ['system:refund', 'payment.refunded'],
      ['system:refund', 'booking.status_changed'],
    ]);
  });

  it('refunds in part, then the rest; more than what is left is 422 and changes nothing', async () => {
    const { traveller, bookingId, payment } = await confirmedBooking();
    const captured = payment!.amountMinor;
    const currency = payment!.currency as Currency;
    const part = Math.floor(captured / 3);

    const partial = await refund(bookingId, { amount: fromMinor(part, currency), reason: 'seat not as sold' });
    expect(partial.status).toBe(202);
    expect(await finished((await json(partial)).refundId)).toMatchObject({ status: 'PARTIALLY_REFUNDED', refundedMinor: part });
    expect(await paymentOf(bookingId)).toMatchObject({ status: 'CAPTURED', refundedMinor: part });
    expect((await json(await traveller.get(bookingId))).status).toBe('CONFIRMED');

    const over = await refund(bookingId, { amount: fromMinor(captured - part + 1, currency), reason: 'too much' });
    expect(over.status).toBe(422);
    expect(await json(over)).toMatchObject({ code: 'REFUND_EXCEEDS_CAPTURE', refundable: fromMinor(captured - part, currency) });
    expect(await refundsAt(payment!.paymentIntentId)).toHaveLength(1);

    const rest = await refund(bookingId, { reason: 'the rest' });
    expect(rest.status).toBe(202);
    expect(await finished((await json(rest)).refundId)).toMatchObject({ status: 'REFUNDED', refundedMinor: captured });
    expect((await refundsAt(payment!.paymentIntentId)).map((r) => r.amount).sort((a, b) => a - b)).toEqual([part, captured - part].sort((a, b) => a - b));
    expect(await paymentOf(bookingId)).toMatchObject({ status: 'REFUNDED', refundedMinor: captured });
    expect((await traveller.reaches(bookingId, 'REFUNDED')).status).toBe('REFUNDED');
  });

  it('does not exist for support or a traveller (404), and a booking with no captured payment is 409', async () => {
    const { bookingId, payment } = await confirmedBooking();
    for (const role of ['support', 'user'] as const) {
      const caller = await signIn(stack, { role });
      const answer = await refund(bookingId, { reason: 'x' }, randomUUID(), caller.auth);
      expect(answer.status).toBe(404);
    }
    expect(await refundsAt(payment!.paymentIntentId)).toHaveLength(0);

    const missingKey = await refund(bookingId, { reason: 'x' }, null);
    expect((await json(missingKey)).code).toBe('IDEMPOTENCY_KEY_MISSING');

    const declined = await confirmedBooking('pm_card_visa_chargeDeclined');
    expect(declined.booking.status).toBe('FAILED');
    const refused = await refund(declined.bookingId, { reason: 'x' });
    expect(refused.status).toBe(409);
    expect((await json(refused)).code).toBe('BOOKING_NOT_REFUNDABLE');
  });
});
