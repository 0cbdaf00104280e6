import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Payment } from '../../infra/db/entities.js';
import { json, travellerOf } from '../support/booking-client.js';
import { eventually } from '../support/eventually.js';
import { startOwnStripeFake } from '../support/own-stripe-fake.js';
import { probesOf } from '../support/probes.js';
import { startStack, type Stack } from '../support/stack.js';

// Tickets are issued only on money held for exactly what the supplier holds (SECURITY.md "Outside review, turn 2": "Payment status trusted too widely").
let stripe: Awaited<ReturnType<typeof startOwnStripeFake>>;
let stack: Stack;
beforeAll(async () => {
  // A Stripe fake of our own: its `pm_card_processing` hook is this checkout's, and its PaymentIntents are all ours.
  stripe = await startOwnStripeFake();
  stack = await startStack({ env: stripe.env });
});
afterAll(async () => {
  await stack?.stop();
  await stripe?.stop();
});

const probes = () => probesOf(stack);
const paymentRows = (bookingId: string) => stack.orm.em.fork().find(Payment, { booking: bookingId });

describe('what the saga accepts as paid', () => {
  it('issues no ticket while the PaymentIntent is processing, and confirms once the funds are held', async () => {
    const traveller = await travellerOf(stack);
    const { bookingId } = await json(await traveller.book(await traveller.bookingBody({ paymentMethodId: 'pm_card_processing' })));
    const intentId = (await eventually(() => paymentRows(bookingId), (rows) => rows.length > 0, { what: 'the payment row' }))[0]!
      .paymentIntentId;

    // The row is written before the PaymentIntent is confirmed (payment-intent-first): wait for the confirmation.
    await eventually(async () => (await stack.stripe.paymentIntents.retrieve(intentId)).status, (status) => status !== 'requires_confirmation', {
      what: 'the PaymentIntent confirmed',
    });
    // Watch the booking and the supplier while the bank has not answered.
    const seen = { bookings: new Set<string>(), holds: new Set<string>(), intents: new Set<string>() };
    for (const until = Date.now() + 5_000; Date.now() < until; ) {
      seen.bookings.add((await json(await traveller.get(bookingId))).status as string);
      seen.holds.add(((await probes().holdOf(bookingId)).hold?.state as string | undefined) ?? 'none');
      seen.intents.add((await stack.stripe.paymentIntents.retrieve(intentId)).status);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect([...seen.intents]).toEqual(['processing']);
    expect([...seen.holds]).toEqual(['HELD']);
    expect([...seen.bookings]).not.toContain('CONFIRMED');
    expect((await json(await traveller.get(bookingId))).status).toBe('AWAITING_PAYMENT');

    // The bank authorizes: the webhook wakes the saga, which reads requires_capture and tickets.
    await stripe.settle(intentId);
    const booking = await traveller.settled(bookingId);
    expect(booking.status).toBe('CONFIRMED');
    expect(booking.payment.status).toBe('CAPTURED');
    expect((await probes().holdOf(bookingId)).hold?.state).toBe('CONFIRMED');
  });

  it.each([
    ['a total above the price', { holdTotalDriftMinor: 100 }],
    ['a total below the price', { holdTotalDriftMinor: -100 }],
    ['another currency', { holdCurrency: 'USD' }],
  ])('fails with HOLD_PRICE_MISMATCH, charging nothing, when the supplier holds %s', async (_what, fault) => {
    const traveller = await travellerOf(stack);
    const body = await traveller.bookingBody();
    await stack.setFaults(fault);
    try {
      const { bookingId } = await json(await traveller.book(body));
      const booking = await traveller.settled(bookingId);
      expect(booking.status).toBe('FAILED');
      expect(booking.failure.code).toBe('HOLD_PRICE_MISMATCH');
      // Nothing authorized: no payment row, no call to Stripe, no PaymentIntent for this booking.
      expect(booking.payment).toBeNull();
      expect(await paymentRows(bookingId)).toEqual([]);
      const { hold, booking: row } = await probes().holdOf(bookingId);
      expect((await probes().stripeRequests()).filter((r) => r.idempotencyKey?.startsWith(row.workflowId))).toEqual([]);
      expect((await probes().paymentIntents()).filter((i) => i.metadata.bookingId === bookingId)).toEqual([]);
      // The compensation released the supplier's hold.
      expect(hold?.state).toBe('RELEASED');
    } finally {
      await stack.setFaults({});
    }
  });
});
