import type Stripe from 'stripe';
import type { PaymentLedger } from '../../activities/reconciliation.ports.js';

/** What Stripe says about a PaymentIntent: status, what its charge captured and what was refunded of it. */
export function createPaymentLedger(client: Stripe): PaymentLedger {
  return {
    async inspect(paymentIntentId) {
      let intent: Stripe.PaymentIntent;
      try {
        intent = await client.paymentIntents.retrieve(paymentIntentId, { expand: ['latest_charge'] });
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) return undefined;
        const e = error as { type?: string; statusCode?: number };
        // The SDK's message may quote the request; the type and status say enough.
        throw new Error(`stripe retrieve failed: ${e?.type ?? 'error'} ${e?.statusCode ?? ''}`.trim());
      }
      const charge = typeof intent.latest_charge === 'object' ? intent.latest_charge : null;
      const captured = charge?.captured ? (charge.amount_captured || charge.amount) : 0;
      return { paymentIntentId, status: intent.status, capturedMinor: captured, refundedMinor: charge?.amount_refunded ?? 0 };
    },
  };
}
