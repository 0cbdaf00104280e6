import Stripe from 'stripe';
import type { Config } from '../config.js';
import { BookingFailure } from '../../domain/errors.js';
import type { Authorization, PaymentGateway } from '../../activities/booking.ports.js';
import { inClientSpan } from '../telemetry/client-span.js';

type StripeHttpClient = NonNullable<NonNullable<ConstructorParameters<typeof Stripe>[1]>['httpClient']>;

/** The SDK's own Node client, each request in a client span (the path's template and the status; never a body or a header). */
function tracedHttpClient(inner: StripeHttpClient): StripeHttpClient {
  return {
    getClientName: () => inner.getClientName(),
    makeRequest: (host, port, path, method, headers, requestData, protocol, timeout) =>
      inClientSpan(
        { service: 'stripe', method, url: new URL(`${protocol}://${host}:${port}${path}`) },
        () => inner.makeRequest(host, port, path, method, headers, requestData, protocol, timeout),
        (response) => response.getStatusCode(),
      ),
  };
}

/** Creates the Stripe SDK client; pointed at localstripe when STRIPE_API_URL says so. */
export function createStripeClient(stripe: Config['stripe']): Stripe {
  const api = stripe.apiUrl ? new URL(stripe.apiUrl) : undefined;
  return new Stripe(stripe.secretKey, {
    // Temporal owns retries; a second layer here would multiply them.
    maxNetworkRetries: 0,
    timeout: 10_000,
    telemetry: false,
    httpClient: tracedHttpClient(Stripe.createNodeHttpClient()),
    ...(api
      ? { host: api.hostname, port: api.port || (api.protocol === 'https:' ? 443 : 80), protocol: api.protocol === 'https:' ? 'https' : 'http' }
      : {}),
  });
}

function isDecline(error: unknown): boolean {
  const e = error as { statusCode?: number; code?: string; type?: string };
  return e?.statusCode === 402 || e?.code === 'card_declined' || e?.type === 'StripeCardError';
}

/**
 * Stripe refused the request itself (an unknown or used payment method, a bad parameter): sending
 * it again cannot succeed. Only 5xx, 429, network and authentication faults are worth retrying.
 */
function isInvalidRequest(error: unknown): boolean {
  const e = error as { statusCode?: number; type?: string };
  return e?.type === 'StripeInvalidRequestError' && e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500 && e.statusCode !== 429;
}

/** A refusal of the card or of the payment method, as a business outcome; undefined when worth retrying. */
function paymentRefusal(error: unknown): BookingFailure | undefined {
  if (error instanceof BookingFailure) return error;
  if (isDecline(error)) return new BookingFailure('PAYMENT_DECLINED', 'The card was declined.');
  if (isInvalidRequest(error)) return new BookingFailure('PAYMENT_METHOD_INVALID', 'The payment method cannot be used.');
  return undefined;
}

/** Authorized or not, from a confirmed PaymentIntent's status. */
function authorizationOf(intent: Stripe.PaymentIntent): Authorization {
  if (intent.status === 'requires_payment_method' || intent.status === 'canceled') {
    throw new BookingFailure('PAYMENT_DECLINED', 'The card was declined.');
  }
  // Only held funds authorize. Anything else (3-D Secure, a confirmation, a bank still
  // processing) waits for Stripe's webhook, after which the saga reads the status again.
  return {
    paymentIntentId: intent.id,
    status: intent.status === 'requires_capture' ? 'requires_capture' : 'requires_action',
    captureBefore: captureDeadline(intent),
  };
}

/**
 * Until when an uncaptured authorization can still be captured: Stripe's own answer when the
 * charge carries it (extended authorizations), else the 7 days Stripe gives online card payments.
 */
function captureDeadline(intent: Stripe.PaymentIntent): string {
  const charge = typeof intent.latest_charge === 'object' ? intent.latest_charge : null;
  const stated = (charge?.payment_method_details?.card as { capture_before?: number } | undefined)?.capture_before;
  const seconds = stated ?? intent.created + 7 * 24 * 3600;
  return new Date(seconds * 1000).toISOString();
}

/** Strips the SDK's error down to what is safe to log and to put in a workflow history. */
function transient(error: unknown, what: string): Error {
  const e = error as { statusCode?: number; type?: string; code?: string };
  return new Error(`stripe ${what} failed: ${e?.type ?? 'error'} ${e?.statusCode ?? ''} ${e?.code ?? ''}`.trim());
}

/**
 * Cards only, named on every PaymentIntent. Without it Stripe (API 2023-08-16 and later) takes the
 * payment methods enabled in the Dashboard, some of which redirect, and refuses a confirmation that
 * gives no return_url: every payment would fail as PAYMENT_METHOD_INVALID. (The API version this SDK
 * pins calls it allowed_payment_method_types; the older payment_method_types is refused.) A card's
 * 3-D Secure then comes back as a `use_stripe_sdk` next action, which the client completes with Stripe.js.
 */
const CARDS_ONLY: Pick<Stripe.PaymentIntentCreateParams, 'allowed_payment_method_types'> = { allowed_payment_method_types: ['card'] };

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
            ...CARDS_ONLY,
            capture_method: 'manual',
            confirm: true,
            metadata,
          },
          { idempotencyKey },
        );
        return authorizationOf(intent);
      } catch (error) {
        throw paymentRefusal(error) ?? transient(error, 'authorize');
      }
    },
    // Unconfirmed, so creating it (or finding it again by its key) never holds any money.
    async createIntent({ amountMinor, currency, paymentMethodId, idempotencyKey, metadata }) {
      try {
        const intent = await client.paymentIntents.create(
          { amount: amountMinor, currency: currency.toLowerCase(), payment_method: paymentMethodId, ...CARDS_ONLY, capture_method: 'manual', metadata },
          { idempotencyKey },
        );
        return { paymentIntentId: intent.id };
      } catch (error) {
        throw paymentRefusal(error) ?? transient(error, 'create');
      }
    },
    async confirmIntent(paymentIntentId, idempotencyKey) {
      try {
        const current = await client.paymentIntents.retrieve(paymentIntentId);
        // Confirmed by an earlier attempt whose answer was lost: its outcome stands.
        if (current.status !== 'requires_confirmation') return authorizationOf(current);
        return authorizationOf(await client.paymentIntents.confirm(paymentIntentId, {}, { idempotencyKey }));
      } catch (error) {
        throw paymentRefusal(error) ?? transient(error, 'confirm');
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
    // Stripe replays a 500 for the key's 24 hours and then forgets the key: a retry must read what
    // was refunded, not trust the key. The key rides in the refund's metadata so it is recognised.
    async refund(paymentIntentId, amountMinor, idempotencyKey) {
      try {
        const intent = await client.paymentIntents.retrieve(paymentIntentId);
        const refunds: Stripe.Refund[] = [];
        for await (const refund of client.refunds.list({ payment_intent: paymentIntentId, limit: 100 })) refunds.push(refund);
        const live = refunds.filter((r) => r.status !== 'failed' && r.status !== 'canceled');
        const refundedMinor = live.reduce((sum, r) => sum + r.amount, 0);
        if (live.some((r) => r.metadata?.idempotency_key === idempotencyKey)) return { refundedMinor };
        // Never more than was captured and not yet given back (a lost answer under an expired key).
        const captured = intent.amount_received ?? (intent.status === 'succeeded' ? intent.amount : 0);
        const amount = Math.min(amountMinor, captured - refundedMinor);
        if (amount <= 0) return { refundedMinor };
        await client.refunds.create(
          { payment_intent: paymentIntentId, amount, metadata: { idempotency_key: idempotencyKey } },
          { idempotencyKey },
        );
        return { refundedMinor: refundedMinor + amount };
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
