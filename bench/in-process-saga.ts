import { createBookingActivities, type BookingActivityDeps } from '../activities/booking.activities.js';
import type { BookingStatus } from '../domain/booking-status.js';
import type { BookingWorkflowInput } from '../workflows/booking.workflow.js';

/**
 * The booking saga with no durability: the same activity functions workflows/booking.workflow.ts
 * calls, in the same order, with the same undo steps registered before each step, but called
 * directly in this process — no Temporal, no retries, no history, no timers. What a crash here
 * loses (holds, an authorization) is exactly what the durable saga exists to prevent; the
 * benchmarks use it as the floor, so the ratio isolates what durability costs.
 */
export interface InProcessOutcome {
  status: BookingStatus;
  failure?: { code: string; message: string };
}

type Activities = ReturnType<typeof createBookingActivities>;

export function createInProcessSaga(deps: BookingActivityDeps) {
  const acts: Activities = createBookingActivities(deps);

  return async function runSaga(input: BookingWorkflowInput, workflowId = `inproc-${input.bookingId}`): Promise<InProcessOutcome> {
    const step = { bookingId: input.bookingId, workflowId };
    const compensations: Array<() => Promise<void>> = [];
    try {
      const priced = await acts.repriceOffers({ bookingId: input.bookingId, seats: input.seats, offers: input.offers });
      const holds: Array<{ offerId: string; provider: string; holdId: string }> = [];
      for (const item of priced.items) {
        const offer = { ...step, offerId: item.offerId, provider: item.provider };
        compensations.unshift(() => acts.releaseHold(offer));
        const hold = await acts.holdOffer({ ...offer, seats: input.seats });
        holds.push({ ...offer, holdId: hold.holdId });
      }
      await acts.setBookingStatus({ bookingId: input.bookingId, status: 'HELD' });

      const charge = { ...step, amountMinor: priced.totalMinor, currency: priced.currency, paymentMethodId: input.paymentMethodId };
      compensations.unshift(async () => void (await acts.voidPayment(charge)));
      const authorization = await acts.authorizePayment(charge);
      // Waiting for a 3-D Secure webhook needs the durable saga; the floor only runs cards that need none.
      if (authorization.status === 'requires_action') throw Object.assign(new Error('3-D Secure is not part of the in-process floor'), { type: 'PAYMENT_DECLINED' });

      for (const hold of holds) await acts.confirmHold({ ...step, ...hold });
      await acts.capturePayment({ ...step, paymentIntentId: authorization.paymentIntentId, amountMinor: priced.totalMinor, currency: priced.currency });
      await acts.setBookingStatus({ bookingId: input.bookingId, status: 'CONFIRMED' });
      return { status: 'CONFIRMED' };
    } catch (error) {
      for (const undo of compensations) await undo().catch(() => undefined);
      const type = (error as { type?: string }).type;
      const failure = { code: type ?? 'INTERNAL', message: (error as Error).message };
      await acts.setBookingStatus({ bookingId: input.bookingId, status: 'FAILED', failure });
      return { status: 'FAILED', failure };
    }
  };
}
