import Stripe from 'stripe';
import type { Config } from '../config.js';
import { BookingFailure } from '../../domain/errors.js';
import type { Authorization, PaymentGateway } from '../../activities/booking.ports.js';

/** Creates the Stripe SDK client; pointed at localstripe when STRIPE_API_URL says so. */
export function createStripeClient(stripe: Config['stripe']): Stripe {
  const api = stripe.apiUrl ? new URL(stripe.apiUrl) : undefined;
  return new Stripe(stripe.secretKey, {
    // Temporal owns retries; a second layer here would multiply them.
    maxNetworkRetries: 0,
    timeout: 10_000,
    telemetry: false,
    ...(api
      ? { host: api.hostname, port: api.port || (api.protocol === 'https:' ? 443 : 80), protocol: api.protocol === 'https:' ? 'https' : 'http' }
      : {}),
  });
}

function isDecline(error: unknown): boolean {
  const e = error as { statusCode?: number; code?: string; type?: string };
  return e?.statusCode === 402 || e?.code === 'card_declined' || e?.type === 'StripeCardError';
}

/** Strips the SDK's error down to what is safe to log and to put in a workflow history. */
function transient(error: unknown, what: string): Error {
  const e = error as { statusCode?: number; type?: string; code?: string };
  return new Error(`stripe ${what} failed: ${e?.type ?? 'error'} ${e?.statusCode ?? ''} ${e?.code ?? ''}`.trim());
}

/** PaymentGateway on Stripe PaymentIntents with manual capture. */
export function createStripeGateway(client: Stripe): PaymentGateway {
  return {
    async authorize({ amountMinor, currency, paymentMethodId, idempotencyKey, metadata }): Promise<Authorization> {
      try {
        const intent = await client.paymentIntents.create(
          {
            amount: amountMinor,
            currency: currency.toLowerCase(),
            payment_method: paymentMethodId,
            capture_method: 'manual',
            confirm: true,
            metadata,
          },
          { idempotencyKey },
        );
        if (intent.status === 'requires_payment_method' || intent.status === 'canceled') {
          throw new BookingFailure('PAYMENT_DECLINED', 'The card was declined.');
        }
        // Only held funds authorize. Anything else (3-D Secure, a confirmation, a bank still
        // processing) waits for Stripe's webhook, after which the saga reads the status again.
        return { paymentIntentId: intent.id, status: intent.status === 'requires_capture' ? 'requires_capture' : 'requires_action' };
      } catch (error) {
        if (error instanceof BookingFailure) throw error;
        if (isDecline(error)) throw new BookingFailure('PAYMENT_DECLINED', 'The card was declined.');
        throw transient(error, 'authorize');
      }
    },
    async capture(paymentIntentId, idempotencyKey) {
      try {
        const intent = await client.paymentIntents.retrieve(paymentIntentId);
        if (intent.status === 'succeeded') return; // captured by an earlier attempt
        await client.paymentIntents.capture(paymentIntentId, {}, { idempotencyKey });
      } catch (error) {
        throw transient(error, 'capture');
      }
    },
    async void(paymentIntentId, idempotencyKey) {
      try {
        const intent = await client.paymentIntents.retrieve(paymentIntentId);
        if (intent.status === 'succeeded') return 'captured';
        if (intent.status !== 'canceled') await client.paymentIntents.cancel(paymentIntentId, {}, { idempotencyKey });
        return 'voided';
      } catch (error) {
        throw transient(error, 'void');
      }
    },
    async refund(paymentIntentId, amountMinor, idempotencyKey) {
      try {
        await client.refunds.create({ payment_intent: paymentIntentId, amount: amountMinor }, { idempotencyKey });
      } catch (error) {
        throw transient(error, 'refund');
      }
    },
    // The saga's wait goes on for requires_action and processing: a confirmation still due waits as they do.
    async status(paymentIntentId) {
      const { status } = await client.paymentIntents.retrieve(paymentIntentId);
      return status === 'requires_confirmation' ? 'requires_action' : status;
    },
  };
}
