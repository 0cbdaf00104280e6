import type Stripe from 'stripe';

/** A card that asks for 3-D Secure, created at the Stripe fake as docs/api.md "Development only" says. */
export async function threeDSecureCard(stripe: Stripe): Promise<string> {
  const method = await stripe.paymentMethods.create({
    type: 'card',
    card: { number: '4000002760003184', exp_month: 12, exp_year: 2030, cvc: '123' },
  } as Stripe.PaymentMethodCreateParams);
  return method.id;
}

/** What the traveller's browser does after the bank's challenge: localstripe's authentication hook. */
export async function completeChallenge(
  stripe: { apiUrl: string; secretKey: string; client: Stripe },
  paymentIntentId: string,
  success: boolean,
) {
  const intent = await stripe.client.paymentIntents.retrieve(paymentIntentId);
  const response = await fetch(`${stripe.apiUrl}/v1/payment_intents/${paymentIntentId}/_authenticate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stripe.secretKey}` },
    body: JSON.stringify({ client_secret: intent.client_secret, success }),
  });
  if (!response.ok) throw new Error(`authentication at the Stripe fake failed: ${response.status}`);
}
