import type Stripe from 'stripe';

/**
 * The client secret of a PaymentIntent that waits for the customer's 3-D Secure challenge, read with
 * the server's secret key; null in any other state, so a finished or failed challenge is never offered again.
 * The secret lets a browser complete (or refuse) that one payment: callers show it to its owner only and never log it.
 */
export function createPaymentChallenges(client: Stripe) {
  return {
    async clientSecretWhileActionRequired(paymentIntentId: string): Promise<string | null> {
      const intent = await client.paymentIntents.retrieve(paymentIntentId);
      return intent.status === 'requires_action' && intent.client_secret ? intent.client_secret : null;
    },
  };
}
