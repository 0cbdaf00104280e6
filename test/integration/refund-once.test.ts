import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../infra/config.js';
import { createStripeClient, createStripeGateway } from '../../infra/stripe/stripe.gateway.js';
import { startOwnStripeFake } from '../support/own-stripe-fake.js';

// The lost-response fault is the fake's own state: this file gets a fake of its own.
let fake: Awaited<ReturnType<typeof startOwnStripeFake>>;
beforeAll(async () => {
  fake = await startOwnStripeFake();
});
afterAll(async () => {
  await fake?.stop();
});

const clientOf = () => createStripeClient(loadConfig({ ...process.env, NODE_ENV: 'test', ...fake.env }).stripe);

async function capturedIntent(amount: number) {
  const client = clientOf();
  const intent = await client.paymentIntents.create({ amount, currency: 'eur', payment_method: 'pm_card_visa', allowed_payment_method_types: ['card'], capture_method: 'manual', confirm: true });
  await client.paymentIntents.capture(intent.id);
  return intent.id;
}

async function loseNextAnswer(keyPrefix: string) {
  const response = await fetch(`${fake.url}/_tc/lost-responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ keyPrefix, count: 1 }),
  });
  expect(response.ok).toBe(true);
}

const refundsOf = async (paymentIntentId: string) => (await clientOf().refunds.list({ payment_intent: paymentIntentId, limit: 100 })).data;

describe('refund() reads what was refunded before acting (issue 12)', () => {
  it('a refund whose answer was lost, asked again under another key (Stripe pruned the first), refunds once', async () => {
    const gateway = createStripeGateway(clientOf());
    const paymentIntentId = await capturedIntent(12_000);
    const step = `cancel-${paymentIntentId}:refund`;
    await loseNextAnswer(step);
    // Stripe acted, the answer never came back: the activity fails and is retried.
    await expect(gateway.refund(paymentIntentId, 12_000, step)).rejects.toThrow();
    // A day later Stripe has forgotten the key; the retry reaches it as a new request.
    await gateway.refund(paymentIntentId, 12_000, `${step}:after-expiry`);
    const refunds = await refundsOf(paymentIntentId);
    expect(refunds.map((r) => r.amount)).toEqual([12_000]);
  });

  it('recognises its own partial refund by the key in its metadata, and still makes the next one', async () => {
    const gateway = createStripeGateway(clientOf());
    const paymentIntentId = await capturedIntent(10_000);
    await gateway.refund(paymentIntentId, 3_000, `admin-${paymentIntentId}:a`);
    const [first] = await refundsOf(paymentIntentId);
    expect(first?.metadata).toMatchObject({ idempotency_key: `admin-${paymentIntentId}:a` });
    // Another refund asked for by another key is another refund...
    await gateway.refund(paymentIntentId, 3_000, `admin-${paymentIntentId}:b`);
    // ...and never more than what is left.
    await gateway.refund(paymentIntentId, 9_000, `admin-${paymentIntentId}:c`);
    expect((await refundsOf(paymentIntentId)).reduce((sum, r) => sum + r.amount, 0)).toBe(10_000);
  });
});
