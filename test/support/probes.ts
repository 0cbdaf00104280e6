import { Booking, Payment } from '../../infra/db/entities.js';
import type { Stack } from './stack.js';

export interface StripeRequest {
  method: string;
  path: string;
  idempotencyKey: string | null;
  status: number;
  replayed: boolean;
  lostResponse: boolean;
}

/** A hold as the sandbox provider reports it. */
export interface ProviderHoldWire {
  hold_id: string;
  reference: string;
  state: 'HELD' | 'CONFIRMED' | 'RELEASED' | 'CANCELLED' | 'EXPIRED';
  confirmation_code: string | null;
  total_minor: number;
}

/** What the provider, the Stripe fake and Postgres each hold about a booking, read independently. */
export function probesOf(stack: Pick<Stack, 'orm' | 'stripe' | 'sandboxUrl' | 'config'>) {
  return {
    /** The provider's hold for the booking's (first) item, found by the saga's reference. */
    async holdOf(bookingId: string) {
      const booking = await stack.orm.em.fork().findOneOrFail(Booking, { id: bookingId }, { populate: ['items'] });
      const item = booking.items.getItems()[0]!;
      const reference = `${booking.workflowId}:hold:${item.offerId}`;
      const response = await fetch(`${stack.sandboxUrl}/v1/holds?reference=${encodeURIComponent(reference)}`);
      const { data } = (await response.json()) as { data: Array<{ state: string }> };
      return { booking, item, hold: data[0] };
    },

    /** The booking's payment row and the PaymentIntent the Stripe fake holds for it. */
    async paymentOf(bookingId: string) {
      const payment = await stack.orm.em.fork().findOneOrFail(Payment, { booking: bookingId });
      return { payment, intent: await stack.stripe.paymentIntents.retrieve(payment.paymentIntentId) };
    },

    /** Every hold the provider has, in any state (the sandbox belongs to this stack). */
    async holds() {
      const response = await fetch(`${stack.sandboxUrl}/v1/holds`);
      if (!response.ok) throw new Error(`listing the provider's holds failed: ${response.status}`);
      return ((await response.json()) as { data: ProviderHoldWire[] }).data;
    },

    /** Every PaymentIntent the Stripe fake holds; meaningful when the fake serves this stack alone. */
    async paymentIntents() {
      return stack.stripe.paymentIntents.list({ limit: 100 }).autoPagingToArray({ limit: 10_000 });
    },

    /** Every refund the Stripe fake holds; meaningful when the fake serves this stack alone. */
    async refunds() {
      return stack.stripe.refunds.list({ limit: 100 }).autoPagingToArray({ limit: 10_000 });
    },

    /** Every request the Stripe fake has seen. */
    async stripeRequests(): Promise<StripeRequest[]> {
      return (await (await fetch(`${stack.config.stripe.apiUrl}/_tc/requests`)).json()) as StripeRequest[];
    },
  };
}
