import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Booking, Payment } from '../../infra/db/entities.js';
import { json, travellerOf } from '../support/booking-client.js';
import { eventually } from '../support/eventually.js';
import { startOwnStripeFake } from '../support/own-stripe-fake.js';
import { probesOf } from '../support/probes.js';
import { startStack, type Stack } from '../support/stack.js';
import { stripeWithOutages, type StripeWithOutages } from '../support/stripe-outage.js';

// Issue 12: money and seats right on the saga's failure paths, through HTTP on the real stack.
// The forward steps get 2 tries here (SAGA_FORWARD_ATTEMPTS), so an outage "longer than the forward
// retry budget" takes seconds rather than the minutes the default 12 tries allow.
const FORWARD_ATTEMPTS = 2;
let fake: Awaited<ReturnType<typeof startOwnStripeFake>>;
let stripe: StripeWithOutages;
let stack: Stack;
beforeAll(async () => {
  fake = await startOwnStripeFake();
  stripe = await stripeWithOutages(fake.url);
  stack = await startStack({ env: { STRIPE_API_URL: stripe.url, SAGA_FORWARD_ATTEMPTS: String(FORWARD_ATTEMPTS) } });
});
afterAll(async () => {
  await stack?.stop();
  await stripe?.close();
  await fake?.stop();
});

const probes = () => probesOf(stack);
const intentsOf = async (bookingId: string) => (await probes().paymentIntents()).filter((i) => i.metadata.bookingId === bookingId);
const workflowIdOf = async (bookingId: string) => (await stack.orm.em.fork().findOneOrFail(Booking, { id: bookingId })).workflowId;

describe('a payment method Stripe refuses', () => {
  it('fails the booking PAYMENT_METHOD_INVALID within seconds and releases the hold', async () => {
    const traveller = await travellerOf(stack);
    const started = Date.now();
    const { bookingId } = await json(await traveller.book(await traveller.bookingBody({ paymentMethodId: 'pm_doesnotexist' })));
    const booking = await traveller.settled(bookingId, 30_000);
    expect(booking.status).toBe('FAILED');
    expect(booking.failure.code).toBe('PAYMENT_METHOD_INVALID');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect((await probes().holdOf(bookingId)).hold?.state).toBe('RELEASED');
    // Nothing was ever authorized, and the undo created nothing either.
    expect((await intentsOf(bookingId)).filter((i) => i.status !== 'requires_payment_method' && i.status !== 'canceled')).toEqual([]);
  });
});

describe('Stripe unreachable', () => {
  it('longer than the forward retry budget before authorizing: no authorization is ever created', async () => {
    const traveller = await travellerOf(stack);
    const body = await traveller.bookingBody();
    stripe.down(/\/v1\/payment_intents/);
    let bookingId = '';
    try {
      bookingId = (await json(await traveller.book(body))).bookingId as string;
      // The forward tries are spent while Stripe is away and the saga undoes: the hold goes at once,
      // while the payment's undo waits for Stripe to say whether a PaymentIntent was created.
      await eventually(async () => (await probes().holdOf(bookingId)).hold?.state, (state) => state === 'RELEASED', {
        timeoutMs: 60_000, what: 'the saga to give up on Stripe and release the hold',
      });
    } finally {
      stripe.heal();
    }
    const booking = await traveller.settled(bookingId, 60_000);
    expect(booking.status).toBe('FAILED');
    expect((await probes().holdOf(bookingId)).hold?.state).toBe('RELEASED');
    // Let any undo still in flight run with Stripe back, then look: never an authorization.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const intents = await intentsOf(bookingId);
    expect(intents.filter((i) => i.status === 'requires_capture' || i.status === 'succeeded')).toEqual([]);
    expect(intents.filter((i) => i.status === 'canceled' && i.latest_charge)).toEqual([]);
  });

  it('during the capture, longer than the forward budget: the booking ends CONFIRMED, tickets kept, captured once', async () => {
    const traveller = await travellerOf(stack);
    const body = await traveller.bookingBody();
    stripe.down(/\/capture$/);
    let bookingId = '';
    try {
      bookingId = (await json(await traveller.book(body))).bookingId as string;
      // Past the forward tries the booking says so, with its tickets issued.
      const stuck = await traveller.reaches(bookingId, 'NEEDS_ATTENTION', 60_000);
      expect(stuck.failure.code).toBe('CAPTURE_STUCK');
      expect((await probes().holdOf(bookingId)).hold?.state).toBe('CONFIRMED');
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    } finally {
      stripe.heal();
    }
    const booking = await traveller.settled(bookingId, 120_000);
    expect(booking.status).toBe('CONFIRMED');
    expect(booking.payment.status).toBe('CAPTURED');
    expect((await probes().holdOf(bookingId)).hold?.state).toBe('CONFIRMED');
    const [intent] = await intentsOf(bookingId);
    expect(intent?.status).toBe('succeeded');
    const refunds = (await probes().refunds()).filter((r) => r.payment_intent === intent?.id);
    expect(refunds).toEqual([]);
    const captures = stripe.seen.filter((r) => r.path.endsWith('/capture') && r.path.includes(intent!.id) && !r.refused);
    // Once through to Stripe: the tries the outage refused never reached it.
    expect(captures).toHaveLength(1);
  });
});

describe('a workflow cancelled from the Web UI or the CLI', () => {
  it('after the point of no return does not undo: the booking stays CONFIRMED, nothing refunded', async () => {
    const traveller = await travellerOf(stack);
    const body = await traveller.bookingBody();
    let cancelled = false;
    // The operator's cancel lands while the capture is on its way to Stripe.
    stripe.onRequest = async ({ path }) => {
      if (cancelled || !path.endsWith('/capture')) return;
      cancelled = true;
      const bookingId = (await stack.orm.em.fork().findOneOrFail(Payment, { paymentIntentId: path.split('/')[3]! }, { populate: ['booking'] })).booking.id;
      await stack.temporal.workflow.getHandle(await workflowIdOf(bookingId)).cancel();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    };
    try {
      const { bookingId } = await json(await traveller.book(body));
      const booking = await traveller.settled(bookingId, 60_000);
      expect(cancelled).toBe(true);
      expect(booking.status).toBe('CONFIRMED');
      expect((await probes().holdOf(bookingId)).hold?.state).toBe('CONFIRMED');
      const [intent] = await intentsOf(bookingId);
      expect(intent?.status).toBe('succeeded');
      expect((await probes().refunds()).filter((r) => r.payment_intent === intent?.id)).toEqual([]);
    } finally {
      stripe.onRequest = undefined;
    }
  });
});
