import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Booking } from '../../infra/db/entities.js';
import { startStack, type Stack } from '../support/stack.js';
import { signIn } from '../support/sign-in.js';
import { probesOf } from '../support/probes.js';
import { json, travellerOf } from '../support/booking-client.js';
import { completeChallenge, threeDSecureCard } from '../support/three-d-secure.js';
import { statusQuery } from '../../workflows/booking.workflow.js';
import { createBookingActivities } from '../../activities/booking.activities.js';
import { createStripeGateway } from '../../infra/stripe/stripe.gateway.js';
import { createActivityDeps } from '../../workers/activity-deps.js';
import { createWorkflowStarter } from '../../infra/temporal/workflow-starter.js';

const HOLD_TTL_MS = 6_000;
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ holdTtlMs: HOLD_TTL_MS });
});
afterAll(async () => {
  await stack?.stop();
});

/** A booking paid with a 3-D Secure card, waiting for the challenge. */
async function bookAwaitingPayment() {
  const traveller = await travellerOf(stack);
  const body = await traveller.bookingBody({ paymentMethodId: await threeDSecureCard(stack.stripe) });
  const { bookingId } = await json(await traveller.book(body));
  await traveller.reaches(bookingId, 'AWAITING_PAYMENT');
  return { traveller, bookingId: bookingId as string };
}

const fake = () => ({ apiUrl: stack.config.stripe.apiUrl!, secretKey: stack.config.stripe.secretKey, client: stack.stripe });

const intentOf = async (bookingId: string) => (await probesOf(stack).paymentOf(bookingId)).intent.id;

async function signed(payload: object, options: { timestamp?: number; secret?: string } = {}) {
  const body = JSON.stringify(payload);
  const header = stack.stripe.webhooks.generateTestHeaderString({
    payload: body,
    secret: options.secret ?? stack.config.stripe.webhookSecret,
    timestamp: options.timestamp,
  });
  return { body, header };
}

async function deliver(body: string, signature: string | undefined) {
  return stack.app.request('/api/v1/webhooks/stripe', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature ? { 'stripe-signature': signature } : {}) },
    body,
  });
}

async function signalsIn(bookingId: string): Promise<number> {
  const booking = await stack.orm.em.fork().findOneOrFail(Booking, { id: bookingId });
  const history = await stack.temporal.workflow.getHandle(booking.workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes).length;
}

describe('payment paths', () => {
  it('waits for 3-D Secure and confirms once the webhook reports the authorization', async () => {
    const { traveller, bookingId } = await bookAwaitingPayment();
    // Operators read the live state and its timeline from the running saga.
    const row = await stack.orm.em.fork().findOneOrFail(Booking, { id: bookingId });
    const live = await stack.temporal.workflow.getHandle(row.workflowId).query(statusQuery);
    expect(live).toMatchObject({ status: 'AWAITING_PAYMENT', payment: 'REQUIRES_ACTION' });
    expect(live.timeline.map((t) => t.status)).toEqual(['PENDING', 'HELD', 'AWAITING_PAYMENT']);

    await completeChallenge(fake(), await intentOf(bookingId), true);
    const booking = await traveller.settled(bookingId);
    expect(booking.status).toBe('CONFIRMED');
    expect(booking.payment.status).toBe('CAPTURED');
    expect((await probesOf(stack).paymentOf(bookingId)).intent.status).toBe('succeeded');
    expect((await probesOf(stack).holdOf(bookingId)).hold?.state).toBe('CONFIRMED');
  });

  it('expires the booking when 3-D Secure is not completed before the hold lapses, voiding the payment', async () => {
    const traveller = await travellerOf(stack);
    const body = await traveller.bookingBody({ paymentMethodId: await threeDSecureCard(stack.stripe) });
    const { bookingId } = await json(await traveller.book(body));
    const booking = await traveller.settled(bookingId, HOLD_TTL_MS + 20_000);
    expect(booking.status).toBe('EXPIRED');
    expect(booking.failure.code).toBe('HOLD_EXPIRED');
    expect(booking.items[0].state).toBe('RELEASED');
    // The saga gives up a little before the hold lapses (the wait's margin) and releases it itself.
    expect((await probesOf(stack).holdOf(bookingId)).hold?.state).toBe('RELEASED');
    expect((await probesOf(stack).paymentOf(bookingId)).intent.status).toBe('canceled');
  });

  it('refuses webhooks with a bad signature, a stale timestamp or an altered body, and acts once per event id', async () => {
    const { traveller, bookingId } = await bookAwaitingPayment();
    const booking = await stack.orm.em.fork().findOneOrFail(Booking, { id: bookingId });
    const event = {
      id: `evt_test_${bookingId.slice(0, 8)}`,
      object: 'event',
      type: 'payment_intent.amount_capturable_updated',
      data: { object: { id: await intentOf(bookingId), object: 'payment_intent', metadata: { workflowId: booking.workflowId } } },
    };

    const wrongSecret = await signed(event, { secret: 'whsec_not_ours' });
    expect((await deliver(wrongSecret.body, wrongSecret.header)).status).toBe(400);
    const stale = await signed(event, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect((await deliver(stale.body, stale.header)).status).toBe(400);
    const good = await signed(event);
    expect((await deliver(good.body.replace('amount_capturable_updated', 'succeeded'), good.header)).status).toBe(400);
    expect((await deliver(good.body, undefined)).status).toBe(400);
    expect(await signalsIn(bookingId)).toBe(0);

    const first = await deliver(good.body, good.header);
    expect(first.status).toBe(200);
    expect(await json(first)).toMatchObject({ handled: true });
    const again = await deliver(good.body, good.header);
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ duplicate: true });
    expect(await signalsIn(bookingId)).toBe(1);

    // The saga checks the PaymentIntent itself: a webhook alone never confirms a booking.
    await new Promise((r) => setTimeout(r, 500));
    expect((await json(await traveller.get(bookingId))).status).toBe('AWAITING_PAYMENT');
    await completeChallenge(fake(), await intentOf(bookingId), true);
    expect((await traveller.settled(bookingId)).status).toBe('CONFIRMED');
  });

  it('cancels a booking awaiting payment: hold released, payment voided, visible to operators', async () => {
    const { traveller, bookingId } = await bookAwaitingPayment();

    const cancel = (key: string) =>
      stack.app.request(`/api/v1/bookings/${bookingId}/cancel`, {
        method: 'POST',
        headers: { ...traveller.auth, 'idempotency-key': key },
      });
    const key = crypto.randomUUID();
    // Over real HTTP: a POST without a body is not held to the JSON content type.
    const cancelled = await fetch(`${stack.apiUrl}/api/v1/bookings/${bookingId}/cancel`, {
      method: 'POST',
      headers: { ...traveller.auth, 'idempotency-key': key },
    });
    expect(cancelled.status).toBe(202);
    // Answered once the saga accepts it; the compensation goes on behind.
    expect(await json(cancelled)).toMatchObject({ bookingId });
    expect((await cancel(key)).status).toBe(202); // a retried request is the same cancellation

    const booking = await traveller.reaches(bookingId, 'CANCELLED');
    expect(booking.items[0].state).toBe('RELEASED');
    expect(booking.payment.status).toBe('VOIDED');
    expect((await stack.stripe.paymentIntents.retrieve(await intentOf(bookingId))).status).toBe('canceled');

    const row = await stack.orm.em.fork().findOneOrFail(Booking, { id: bookingId });
    const listed = stack.temporal.workflow.list({
      query: `WorkflowId='${row.workflowId}' AND BookingStatus='CANCELLED' AND PaymentState='VOIDED' AND Providers='sandbox' AND Currency='EUR'`,
    });
    const found = [];
    for await (const execution of listed) found.push(execution);
    expect(found).toHaveLength(1);
    expect(found[0]!.memo).toMatchObject({ bookingId, seats: 1 });
  });

  it('cancels a confirmed booking at the provider and refunds what its fare rule allows, once', async () => {
    const traveller = await travellerOf(stack);
    // Even-numbered economy flights of the sandbox carry the STANDARD rule: half back.
    const search = await traveller.search({ departureDate: '2027-05-01' });
    const offer = search.offers.find((o) => (o as { details?: { fareRule?: string } }).details?.fareRule === 'STANDARD')!;
    const body = await traveller.bookingBody();
    body.offers = [{ offerId: offer.offerId, expectedPrice: offer.price }];
    const { bookingId } = await json(await traveller.book(body));
    expect((await traveller.settled(bookingId)).status).toBe('CONFIRMED');

    const cancel = () =>
      stack.app.request(`/api/v1/bookings/${bookingId}/cancel`, {
        method: 'POST',
        headers: { ...traveller.auth, 'idempotency-key': crypto.randomUUID() },
      });
    const [first, second] = await Promise.all([cancel(), cancel()]);
    expect([first.status, second.status]).toEqual([202, 202]);
    await traveller.reaches(bookingId, 'REFUNDED');
    expect((await cancel()).status).toBe(202);

    const booking = await json(await traveller.get(bookingId));
    expect(booking.items[0].state).toBe('CANCELLED');
    expect((await probesOf(stack).holdOf(bookingId)).hold?.state).toBe('CANCELLED');

    const { payment } = await probesOf(stack).paymentOf(bookingId);
    const priceMinor = Math.round(Number(offer.price.amount) * 100);
    expect(payment.refundedMinor).toBe(Math.floor(priceMinor / 2));
    const intent = await stack.stripe.paymentIntents.retrieve(payment.paymentIntentId, { expand: ['latest_charge'] });
    expect((intent.latest_charge as { amount_refunded: number }).amount_refunded).toBe(Math.floor(priceMinor / 2));

    const stranger = await stack.app.request(`/api/v1/bookings/${bookingId}/cancel`, {
      method: 'POST',
      headers: { ...(await signIn(stack)).auth, 'idempotency-key': crypto.randomUUID() },
    });
    expect(stranger.status).toBe(404);
  });

  it('undoes a payment whose capture took effect with a refund, once, when the saga compensates after it', async () => {
    // The case: Stripe captured, yet every try of the capture step failed to say so, so the saga
    // compensates. Cancelling a captured PaymentIntent fails for ever; the undo must refund it.
    const traveller = await travellerOf(stack);
    const { bookingId } = await json(await traveller.book(await traveller.bookingBody()));
    expect((await traveller.settled(bookingId)).status).toBe('CONFIRMED');
    const row = await stack.orm.em.fork().findOneOrFail(Booking, { id: bookingId });
    const { deps, close } = createActivityDeps(stack.config, stack.orm, { providers: new Map(), payments: createStripeGateway(stack.stripe), keys: stack.keys, workflows: createWorkflowStarter(stack.temporal, stack.taskQueue) });
    try {
      const activities = createBookingActivities(deps);
      const undo = { bookingId, workflowId: row.workflowId, amountMinor: row.totalMinor, currency: row.currency, paymentMethodId: 'pm_card_visa' };
      expect(await activities.voidPayment(undo)).toBe('REFUNDED');
      expect(await activities.voidPayment(undo)).toBe('REFUNDED'); // a retried undo refunds nothing more
    } finally {
      await close();
    }
    const { payment } = await probesOf(stack).paymentOf(bookingId);
    expect(payment).toMatchObject({ status: 'REFUNDED', refundedMinor: row.totalMinor });
    const refunds = await stack.stripe.refunds.list({ payment_intent: payment.paymentIntentId });
    expect(refunds.data.map((r) => r.amount)).toEqual([row.totalMinor]);
  });

  it('answers 200 to a correctly signed event of a type it does not handle', async () => {
    const event = await signed({ id: 'evt_unhandled', object: 'event', type: 'customer.created', data: { object: {} } });
    const response = await deliver(event.body, event.header);
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ handled: false });
  });
});
