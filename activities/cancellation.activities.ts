import { refundMinor } from '../domain/fare-rules.js';
import { holdReference, stepKey, type BookingActivityDeps } from './booking.activities.js';

/** Activities that cancel a confirmed booking at its providers and refund it per its fare rules. */
export function createCancellationActivities(deps: BookingActivityDeps) {
  return {
    async planCancellation(input: { bookingId: string }) {
      const booking = await deps.bookings.loadForCancellation(input.bookingId);
      const refund = booking.items.reduce((sum, item) => sum + refundMinor(item.fareRule, item.priceMinor), 0);
      return {
        bookingWorkflowId: booking.workflowId,
        status: booking.status,
        // A confirmed booking, or one whose earlier cancellation run failed while stuck.
        cancellable: booking.status === 'CONFIRMED' || (booking.status === 'NEEDS_ATTENTION' && booking.failureCode === 'CANCELLATION_STUCK'),
        currency: booking.currency,
        paymentIntentId: booking.paymentIntentId,
        refundMinor: refund,
        items: booking.items.map(({ offerId, provider }) => ({ offerId, provider })),
      };
    },

    async cancelAtProvider(input: { bookingId: string; bookingWorkflowId: string; offerId: string; provider: string }) {
      const client = deps.providers.get(input.provider);
      if (!client) throw new Error(`unknown provider ${input.provider}`);
      const hold = await client.findHold(holdReference(input.bookingWorkflowId, input.offerId));
      if (hold) await client.releaseOrCancel(hold.holdId);
      await deps.bookings.updateItem(input.bookingId, input.offerId, { state: 'CANCELLED' });
    },

    async refundPayment(input: { bookingId: string; cancellationId: string; paymentIntentId: string; amountMinor: number }) {
      // The same key in every run of this booking's cancellation: a run started again never refunds twice.
      await deps.payments.refund(input.paymentIntentId, input.amountMinor, stepKey(input.cancellationId, 'refund'));
      await deps.bookings.recordRefund(input.bookingId, input.paymentIntentId, input.amountMinor, 'system:cancellation');
    },
  };
}
