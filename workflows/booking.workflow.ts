import {
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { BookingStatus } from '../domain/booking-status.js';
import { isBookingFailureCode } from '../domain/errors.js';
import type { Activities } from '../activities/index.js';
import { COMPENSATION_STEP, FORWARD_STEP, RECORD_STEP } from './booking.constants.js';

/** What the API hands the saga. No PII: passengers stay encrypted in Postgres. */
export interface BookingWorkflowInput {
  bookingId: string;
  userId: string;
  seats: number;
  offers: Array<{ offerId: string; provider: string; expectedMinor: number; currency: string }>;
  paymentMethodId: string;
}

export interface BookingState {
  status: BookingStatus;
  failure?: { code: string; message: string };
  timeline: Array<{ status: BookingStatus; at: string }>;
}

export const BookingStatusAttribute = defineSearchAttributeKey('BookingStatus', SearchAttributeType.KEYWORD);
export const statusQuery = defineQuery<BookingState>('status');
export const paymentSucceededSignal = defineSignal('paymentSucceeded');
export const paymentFailedSignal = defineSignal<[{ code: string }]>('paymentFailed');

const forward = proxyActivities<Activities>(FORWARD_STEP);
const undo = proxyActivities<Activities>(COMPENSATION_STEP);
const record = proxyActivities<Activities>(RECORD_STEP);

/** The first failure in a cause chain that carries one of our business codes. */
function failureOf(error: unknown): { code: string; message: string } | undefined {
  for (let e = error as { type?: string; message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (isBookingFailureCode(e.type)) return { code: e.type, message: e.message ?? e.type };
  }
  return undefined;
}

/** search → re-price → hold → pay → confirm, with each undo registered before its step. */
export async function bookingWorkflow(input: BookingWorkflowInput): Promise<BookingState> {
  const { workflowId } = workflowInfo();
  const step = { bookingId: input.bookingId, workflowId };
  const state: BookingState = { status: 'PENDING', timeline: [{ status: 'PENDING', at: new Date().toISOString() }] };
  let payment: 'succeeded' | { code: string } | undefined;
  setHandler(statusQuery, () => state);
  setHandler(paymentSucceededSignal, () => void (payment ??= 'succeeded'));
  setHandler(paymentFailedSignal, ({ code }) => void (payment ??= { code }));

  async function moveTo(status: BookingStatus, failure?: BookingState['failure']) {
    state.status = status;
    state.failure = failure;
    state.timeline.push({ status, at: new Date().toISOString() });
    upsertSearchAttributes([{ key: BookingStatusAttribute, value: status }]);
    await record.setBookingStatus({ bookingId: input.bookingId, status, failure });
  }

  const compensations: Array<() => Promise<void>> = [];
  upsertSearchAttributes([{ key: BookingStatusAttribute, value: 'PENDING' }]);
  try {
    const priced = await forward.repriceOffers({ bookingId: input.bookingId, seats: input.seats, offers: input.offers });

    const holds: Array<{ offerId: string; provider: string; holdId: string; expiresAt: string }> = [];
    for (const item of priced.items) {
      const offer = { ...step, offerId: item.offerId, provider: item.provider };
      compensations.unshift(() => undo.releaseHold(offer));
      const hold = await forward.holdOffer({ ...offer, seats: input.seats });
      holds.push({ ...item, ...hold });
    }
    await moveTo('HELD');

    const charge = { ...step, amountMinor: priced.totalMinor, currency: priced.currency, paymentMethodId: input.paymentMethodId };
    compensations.unshift(() => undo.voidPayment(charge));
    const authorization = await forward.authorizePayment(charge);

    if (authorization.status === 'requires_action') {
      await moveTo('AWAITING_PAYMENT');
      const earliestExpiry = Math.min(...holds.map((h) => Date.parse(h.expiresAt)));
      // A webhook only wakes the saga; the PaymentIntent's own status decides.
      for (;;) {
        const answered = await condition(() => payment !== undefined, Math.max(1, earliestExpiry - Date.now()));
        if (!answered) throw Object.assign(new Error('The hold expired before payment completed.'), { type: 'HOLD_EXPIRED' });
        if (payment !== 'succeeded') throw Object.assign(new Error('The card was declined.'), { type: 'PAYMENT_DECLINED' });
        const status = await forward.paymentStatus({ paymentIntentId: authorization.paymentIntentId });
        if (status === 'requires_capture' || status === 'succeeded') break;
        if (status !== 'requires_action' && status !== 'processing') {
          throw Object.assign(new Error('The card was declined.'), { type: 'PAYMENT_DECLINED' });
        }
        payment = undefined;
      }
    }

    for (const hold of holds) await forward.confirmHold({ ...step, ...hold });
    await forward.capturePayment({ ...step, paymentIntentId: authorization.paymentIntentId, amountMinor: priced.totalMinor, currency: priced.currency });
    await moveTo('CONFIRMED');
    return state;
  } catch (error) {
    // Undo newest-first, and never let a cancellation of this workflow skip an undo.
    await CancellationScope.nonCancellable(async () => {
      for (const compensate of compensations) await compensate();
    });
    const expired = (error as { type?: string }).type === 'HOLD_EXPIRED';
    const failure = expired
      ? { code: 'HOLD_EXPIRED', message: 'The hold expired before payment completed.' }
      : (failureOf(error) ?? { code: 'INTERNAL', message: 'The booking could not be completed.' });
    await CancellationScope.nonCancellable(() => moveTo(expired ? 'EXPIRED' : 'FAILED', failure));
    return state;
  }
}
