import type { BookingActivityDeps } from './booking.activities.js';

export interface OperatorRefundInput {
  bookingId: string;
  paymentIntentId: string;
  amountMinor: number;
  /** The refund workflow's id: the same operator request (booking and Idempotency-Key) refunds once. */
  refundId: string;
}

/** An operator's refund (POST /admin/bookings/{id}/refund): full or partial, once per request. */
export function createRefundActivities(deps: BookingActivityDeps) {
  return {
    async refundByOperator(input: OperatorRefundInput) {
      // The gateway recognises its own key in the refund's metadata and never exceeds the capture.
      const { refundedMinor } = await deps.payments.refund(input.paymentIntentId, input.amountMinor, input.refundId);
      // Stripe's total, not this request's amount: partial refunds add up to REFUNDED.
      const { fully } = await deps.bookings.recordRefundedTotal(input.bookingId, input.paymentIntentId, refundedMinor);
      return { refundedMinor, fully };
    },
  };
}
