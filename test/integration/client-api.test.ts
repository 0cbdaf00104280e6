import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Booking } from '../../infra/db/entities.js';
import { createLogger } from '../../infra/logger.js';
import { recordedLog } from '../support/recorded-log.js';
import { createFieldCipher } from '../../infra/crypto/field-cipher.js';
import { createDataKeyStore } from '../../infra/db/data-key.store.js';
import { json, travellerOf, type BookingJson } from '../support/booking-client.js';
import { eventually } from '../support/eventually.js';
import { startOwnStripeFake } from '../support/own-stripe-fake.js';
import { probesOf } from '../support/probes.js';
import { startStack, type Stack } from '../support/stack.js';
import { completeChallenge, threeDSecureCard } from '../support/three-d-secure.js';

// docs/api.md "Paying: what a client needs" and the Bookings table: what the web client relies on.
const { lines, sink } = recordedLog();
let stack: Stack;
let fake: Awaited<ReturnType<typeof startOwnStripeFake>>;
beforeAll(async () => {
  fake = await startOwnStripeFake();
  // The API's real logger (same redaction), at its most verbose, writing to memory.
  stack = await startStack({ env: fake.env, log: createLogger({ logLevel: 'trace', nodeEnv: 'test' }, 'api', sink) });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await fake?.stop();
});

const stripeFake = () => ({ apiUrl: stack.config.stripe.apiUrl, secretKey: stack.config.stripe.secretKey, client: stack.stripe });

async function awaitingChallenge() {
  const traveller = await travellerOf(stack);
  const body = await traveller.bookingBody({ paymentMethodId: await threeDSecureCard(stack.stripe) });
  const { bookingId } = await json(await traveller.book(body));
  await traveller.reaches(bookingId, 'AWAITING_PAYMENT');
  return { traveller, bookingId: bookingId as string };
}

describe('GET /payments/config', () => {
  it('tells anyone the publishable key and the Stripe.js to load, here the Stripe fake\'s', async () => {
    const response = await stack.app.request('/api/v1/payments/config');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ publishableKey: 'pk_test_localstripe', stripeJsUrl: `${fake.url}/js.stripe.com/v3/` });
  });
});

describe('payment.nextAction (3-D Secure)', () => {
  it('gives the client secret to the owner only, only while the challenge is pending, and never logs it', async () => {
    const { traveller, bookingId } = await awaitingChallenge();
    const { intent } = await probesOf(stack).paymentOf(bookingId);
    expect(intent.status).toBe('requires_action');

    const owned = await json(await traveller.get(bookingId));
    expect(owned.payment.nextAction).toEqual({ type: 'use_stripe_sdk', clientSecret: intent.client_secret });
    const secret = owned.payment.nextAction.clientSecret as string;
    expect(secret).toMatch(/^pi_\w+_secret_\w+$/);

    // Someone else asking for it gets nothing, not even that it exists; the list never carries it.
    const stranger = await travellerOf(stack);
    const foreign = await stranger.get(bookingId);
    expect(foreign.status).toBe(404);
    expect(await foreign.text()).not.toContain(secret);
    const list = await stack.app.request('/api/v1/bookings', { headers: traveller.auth });
    expect(await list.text()).not.toContain(secret);

    await completeChallenge(stripeFake(), intent.id, true);
    const confirmed = await traveller.settled(bookingId);
    expect(confirmed.status).toBe('CONFIRMED');
    expect(confirmed.payment.nextAction).toBeUndefined();
    expect(JSON.stringify(confirmed)).not.toContain(secret);

    // Nowhere in what the API logged, and redacted should anyone log it by name.
    createLogger({ logLevel: 'info', nodeEnv: 'test' }, 'api', sink).info({ payment: { nextAction: { clientSecret: secret } }, client_secret: secret }, 'probe');
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.some((line) => line.includes('"probe"'))).toBe(true);
    for (const line of lines) expect(line).not.toContain(secret);
    expect(lines.join('\n')).not.toContain('_secret_');
  });

  it('asks Stripe about a pending challenge once however often the owner polls, and never for a settled booking', async () => {
    const { traveller, bookingId } = await awaitingChallenge();
    const { intent } = await probesOf(stack).paymentOf(bookingId);
    const stripeReadsOfIt = async () =>
      (await probesOf(stack).stripeRequests()).filter((r) => r.method === 'GET' && r.path === `/v1/payment_intents/${intent.id}`).length;

    const before = await stripeReadsOfIt();
    const polls = await Promise.all(Array.from({ length: 30 }, () => traveller.get(bookingId).then(json)));
    for (const poll of polls) expect(poll.payment.nextAction).toEqual({ type: 'use_stripe_sdk', clientSecret: intent.client_secret });
    // Thirty reads, in parallel and within a few seconds, cost the platform one Stripe call at most
    // (none when the wait for AWAITING_PAYMENT just asked).
    expect((await stripeReadsOfIt()) - before).toBeLessThanOrEqual(1);

    // A booking that no longer waits for the customer costs none at all.
    const plain = await travellerOf(stack);
    const { bookingId: confirmedId } = await json(await plain.book(await plain.bookingBody()));
    const confirmed = await plain.settled(confirmedId);
    const { intent: paid } = await probesOf(stack).paymentOf(confirmedId);
    const readsOfPaid = async () =>
      (await probesOf(stack).stripeRequests()).filter((r) => r.method === 'GET' && r.path === `/v1/payment_intents/${paid.id}`).length;
    const settledReads = await readsOfPaid();
    for (let i = 0; i < 5; i += 1) expect((await json(await plain.get(confirmedId))).status).toBe(confirmed.status);
    expect(await readsOfPaid()).toBe(settledReads);
  });

  it('a completed challenge whose webhook never arrives still confirms while the owner polls, long before the hold ends (chaos run, issue 12)', async () => {
    const { traveller, bookingId } = await awaitingChallenge();
    const { intent } = await probesOf(stack).paymentOf(bookingId);
    // Stripe's delivery is lost: the webhook points nowhere while the traveller completes the challenge.
    const pointWebhookAt = (url: string) =>
      fetch(`${stack.config.stripe.apiUrl}/_config/webhooks/${stack.taskQueue}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url, secret: stack.config.stripe.webhookSecret }),
      });
    expect((await pointWebhookAt('http://127.0.0.1:9/lost')).ok).toBe(true);
    try {
      await completeChallenge(stripeFake(), intent.id, true);
      // The web client polls its booking after the challenge; the hold lasts 20 minutes, this waits 20 s.
      const confirmed = await eventually(async () => json(await traveller.get(bookingId)), (b) => b.status === 'CONFIRMED', {
        timeoutMs: 20_000,
        intervalMs: 1_000,
        what: 'the booking confirmed while its owner polls',
      });
      expect(confirmed.payment.nextAction).toBeUndefined();
    } finally {
      await pointWebhookAt(`${stack.apiUrl}/api/v1/webhooks/stripe`);
    }
  });

  it('offers no challenge for a card that needs none', async () => {
    const traveller = await travellerOf(stack);
    const { bookingId } = await json(await traveller.book(await traveller.bookingBody()));
    const settled = await traveller.settled(bookingId);
    expect(settled.status).toBe('CONFIRMED');
    expect(settled.payment.nextAction).toBeUndefined();
    // A confirmed booking says what cancelling it now would refund, per its fare rules.
    expect(settled.cancellation.refund.currency).toBe(settled.price.currency);
    expect(settled.items[0].fareRule).toMatch(/^(FLEX|STANDARD|SAVER)$/);
  });
});

describe('GET /bookings', () => {
  it("pages through the caller's own bookings, newest first, filtered by status", async () => {
    const traveller = await travellerOf(stack);
    const made: string[] = [];
    for (let i = 0; i < 3; i += 1) made.unshift((await json(await traveller.book(await traveller.bookingBody()))).bookingId as string);
    const other = await travellerOf(stack);
    await other.book(await other.bookingBody());

    const page = async (query: string) => stack.app.request(`/api/v1/bookings${query}`, { headers: traveller.auth });
    const first = await json(await page('?limit=2'));
    expect(first.items.map((b: BookingJson) => b.bookingId)).toEqual(made.slice(0, 2));
    expect(first.items[0]).toMatchObject({ status: expect.any(String), price: { currency: 'EUR' }, createdAt: expect.any(String) });
    expect(first.items[0].items[0]).toMatchObject({ offerId: expect.any(String), provider: expect.any(String), kind: 'flight' });
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await json(await page(`?limit=2&cursor=${first.nextCursor}`));
    expect(second.items.map((b: BookingJson) => b.bookingId)).toEqual(made.slice(2));
    expect(second.nextCursor).toBeNull();
    expect((await json(await page(''))).items).toHaveLength(3);

    await Promise.all(made.map((id) => traveller.settled(id)));
    expect((await json(await page('?status=CONFIRMED'))).items).toHaveLength(3);
    expect((await json(await page('?status=FAILED'))).items).toHaveLength(0);

    for (const bad of ['?limit=0', '?limit=101', '?limit=x', '?status=LOST', '?cursor=bm90LWEtY3Vyc29y', '?other=1']) {
      expect((await page(bad)).status, bad).toBe(400);
    }
    expect((await stack.app.request('/api/v1/bookings')).status).toBe(401);
  }, 90_000);
});

describe('PATCH /bookings/{id}', () => {
  it('changes notes (HTML stripped) and contact (phone encrypted), for the owner only, 10 an hour', async () => {
    const traveller = await travellerOf(stack);
    const { bookingId } = await json(await traveller.book(await traveller.bookingBody()));
    const patch = (body: unknown, who = traveller) =>
      stack.app.request(`/api/v1/bookings/${bookingId}`, {
        method: 'PATCH',
        headers: { ...who.auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    const changed = await patch({ notes: 'Window seat <script>alert(1)</script>please', contact: { email: 'grace@example.com', phone: '+14155550123' } });
    expect(changed.status).toBe(200);
    const view = await json(changed);
    expect(view).toMatchObject({ bookingId, notes: 'Window seat alert(1)please', contact: { email: 'grace@example.com' } });
    expect(JSON.stringify(view)).not.toContain('+14155550123');

    const row = await stack.orm.em.fork().findOneOrFail(Booking, { id: bookingId });
    expect(row.contactPhone).not.toContain('4155550123');
    const cipher = createFieldCipher({ keys: stack.keys, store: createDataKeyStore(stack.orm) });
    expect(await cipher.decrypt(traveller.userId, row.contactPhone)).toBe('+14155550123');

    for (const bad of [{}, { notes: 'x'.repeat(2001) }, { contact: { email: 'a@b.co', phone: '07700900123' } }, { contact: { email: 'nope', phone: '+447700900123' } }, { status: 'CONFIRMED' }]) {
      expect((await patch(bad)).status, JSON.stringify(bad).slice(0, 60)).toBe(400);
    }
    const stranger = await travellerOf(stack);
    expect((await patch({ notes: 'mine now' }, stranger)).status).toBe(404);
    expect((await stack.orm.em.fork().findOneOrFail(Booking, { id: bookingId })).notes).toBe('Window seat alert(1)please');

    // 6 answered so far (1 changed, 5 refused by validation): four more at once, while the saga moves the
    // booking on (these once deadlocked with its transitions: a 500), then the limit.
    const together = await Promise.all([0, 1, 2, 3].map((i) => patch({ notes: `note ${i}` })));
    expect(together.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const limited = await patch({ notes: 'one too many' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});

describe('the contract', () => {
  it('declares what each of these routes can answer', async () => {
    const document = await json(await stack.app.request('/openapi.json'));
    const statuses = (path: string, method: string) => Object.keys(document.paths[path][method].responses).sort();
    expect(statuses('/api/v1/payments/config', 'get')).toEqual(['200', '500']);
    expect(statuses('/api/v1/bookings', 'get')).toEqual(['200', '400', '401', '500']);
    expect(statuses('/api/v1/bookings/{id}', 'get')).toEqual(['200', '401', '404', '500']);
    // 503: the change limit fails closed when Redis cannot count (SECURITY.md "2026-12-06: internal adversarial review (API surface)").
    expect(statuses('/api/v1/bookings/{id}', 'patch')).toEqual(['200', '400', '401', '403', '404', '413', '415', '429', '500', '503']);
    const payment = document.components.schemas.Booking.properties.payment;
    expect(JSON.stringify(payment)).toContain('nextAction');
  });
});

describe('the Stripe fake, as a browser uses it', () => {
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const card = (number: string) => ({
    type: 'card', 'card[number]': number, 'card[exp_month]': '12', 'card[exp_year]': '2030', 'card[cvc]': '123',
  });

  it('creates PaymentMethods with the publishable key, and nothing else with it', async () => {
    const asForm = { 'content-type': 'application/x-www-form-urlencoded' };
    const byHeader = await fetch(`${fake.url}/v1/payment_methods`, {
      method: 'POST', headers: { ...asForm, authorization: 'Bearer pk_test_localstripe' }, body: form(card('4242424242424242')),
    });
    expect(byHeader.status).toBe(200);
    expect(((await byHeader.json()) as { id: string }).id).toMatch(/^pm_/);
    const byField = await fetch(`${fake.url}/v1/payment_methods`, {
      method: 'POST', headers: asForm, body: form({ ...card('4000002760003184'), key: 'pk_test_localstripe' }),
    });
    expect(byField.status).toBe(200);

    // A publishable key reads and changes nothing else, as at Stripe.
    const list = await fetch(`${fake.url}/v1/payment_methods`, { headers: { authorization: 'Bearer pk_test_localstripe' } });
    expect(list.status).toBe(401);
    const refund = await fetch(`${fake.url}/v1/refunds`, {
      method: 'POST', headers: { ...asForm, authorization: 'Bearer pk_test_localstripe' }, body: form({ payment_intent: 'pi_x' }),
    });
    expect(refund.status).toBe(401);
    expect((await fetch(`${fake.url}/v1/payment_methods`, { method: 'POST', headers: asForm, body: form(card('4242424242424242')) })).status).toBe(401);
  });

  it('refuses, as Stripe does, to confirm a PaymentIntent that names no payment method types and gives no return_url', async () => {
    const { client } = stripeFake();
    const base = { amount: 1000, currency: 'eur', payment_method: 'pm_card_visa', capture_method: 'manual' as const };
    const refused = await client.paymentIntents.create({ ...base, confirm: true }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ type: 'StripeInvalidRequestError', statusCode: 400 });
    expect((refused as Error).message).toContain('return_url');
    const unnamed = await client.paymentIntents.create(base);
    await expect(client.paymentIntents.confirm(unnamed.id)).rejects.toMatchObject({ type: 'StripeInvalidRequestError' });
    // Cards named: confirmed and authorized, as the booking saga's gateway asks for it.
    const named = await client.paymentIntents.create({ ...base, allowed_payment_method_types: ['card'] });
    expect((await client.paymentIntents.confirm(named.id)).status).toBe('requires_capture');
  });

  it('serves a Stripe.js that creates PaymentMethods and runs the challenge', async () => {
    const script = await fetch(`${fake.url}/js.stripe.com/v3/`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('javascript');
    const source = await script.text();
    for (const api of ['createPaymentMethod', 'handleNextAction', 'confirmCardPayment']) expect(source).toContain(api);
  });

  it('completes a challenge with the publishable key and the client secret; a refused one fails the booking promptly', async () => {
    const passed = await awaitingChallenge();
    const secret = (await json(await passed.traveller.get(passed.bookingId))).payment.nextAction.clientSecret as string;
    const authenticate = (clientSecret: string, success: boolean) =>
      fetch(`${fake.url}/v1/payment_intents/${clientSecret.split('_secret_')[0]}/_authenticate?success=${success}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key: 'pk_test_localstripe', client_secret: clientSecret }),
      });
    expect((await authenticate(`${secret.split('_secret_')[0]}_secret_wrong`, true)).status).toBe(401);
    expect((await authenticate(secret, true)).status).toBe(200);
    expect((await passed.traveller.settled(passed.bookingId)).status).toBe('CONFIRMED');

    const refused = await awaitingChallenge();
    const refusedSecret = (await json(await refused.traveller.get(refused.bookingId))).payment.nextAction.clientSecret as string;
    const started = Date.now();
    expect((await authenticate(refusedSecret, false)).status).toBe(200);
    const failed = await refused.traveller.settled(refused.bookingId, 20_000);
    expect(failed.status).toBe('FAILED');
    expect(failed.failure.code).toMatch(/^PAYMENT_(DECLINED|METHOD_INVALID)$/);
    expect(failed.payment?.nextAction).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(20_000);
    await eventually(async () => (await probesOf(stack).holdOf(refused.bookingId)).hold?.state, (state) => state === 'RELEASED');
  }, 90_000);
});
