import {
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { isTerminal, type BookingStatus } from '../domain/booking-status.js';
import { isBookingFailureCode } from '../domain/errors.js';
import type { Activities } from '../activities/index.js';
import {
  COMPENSATION_STEP,
  DEFAULT_COMPENSATION_ALERT_ATTEMPTS,
  DEFAULT_LATE_SUCCESS_SWEEP_MS,
  firstCompensationTries,
  FORWARD_STEP,
  RECORD_STEP,
} from './booking.constants.js';
import {
  BookingStatusAttribute,
  CurrencyAttribute,
  HoldExpiresAtAttribute,
  PaymentStateAttribute,
  ProvidersAttribute,
  TotalAmountMinorAttribute,
} from './search-attributes.js';

/** What the API hands the saga. No PII: passengers stay encrypted in Postgres. */
export interface BookingWorkflowInput {
  bookingId: string;
  userId: string;
  seats: number;
  offers: Array<{ offerId: string; provider: string; expectedMinor: number; currency: string }>;
  paymentMethodId: string;
  /** Tries of an undo before operators are alerted; from config, so tests can make it small. */
  compensationAlertAttempts?: number;
  /** How long after failing to look again for holds a provider granted late; from config. */
  lateSuccessSweepMs?: number;
}

export type PaymentState = 'NONE' | 'REQUIRES_ACTION' | 'AUTHORIZED' | 'CAPTURED' | 'VOIDED' | 'REFUNDED';

export interface BookingState {
  status: BookingStatus;
  payment: PaymentState;
  failure?: { code: string; message: string };
  timeline: Array<{ status: BookingStatus; at: string }>;
}

export const statusQuery = defineQuery<BookingState>('status');
export const paymentSucceededSignal = defineSignal('paymentSucceeded');
export const paymentFailedSignal = defineSignal<[{ code: string }]>('paymentFailed');
/** Cancels a booking that is not yet confirmed; refused from confirmation on. */
export const cancelUpdate = defineUpdate<BookingState, [{ reason?: string }]>('cancel');

const forward = proxyActivities<Activities>(FORWARD_STEP);
const undoPersistently = proxyActivities<Activities>(COMPENSATION_STEP);
type Undo = (activities: Activities) => Promise<void>;
const record = proxyActivities<Activities>(RECORD_STEP);

/** The first failure in a cause chain that carries one of our business codes. */
function failureOf(error: unknown): { code: string; message: string } | undefined {
  for (let e = error as { type?: string; message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (isBookingFailureCode(e.type)) return { code: e.type, message: e.message ?? e.type };
  }
  return undefined;
}

const failure = (type: string, message: string) => Object.assign(new Error(message), { type });

/** search → re-price → hold → pay → confirm, with each undo registered before its step. */
export async function bookingWorkflow(input: BookingWorkflowInput): Promise<BookingState> {
  const { workflowId } = workflowInfo();
  const step = { bookingId: input.bookingId, workflowId };
  const state: BookingState = { status: 'PENDING', payment: 'NONE', timeline: [{ status: 'PENDING', at: new Date().toISOString() }] };
  let paymentNews: 'succeeded' | { code: string } | undefined;
  let pastPointOfNoReturn = false;
  let finished = false; // the final state is recorded in Postgres too
  const saga = new CancellationScope();

  setHandler(statusQuery, () => state);
  setHandler(paymentSucceededSignal, () => void (paymentNews ??= 'succeeded'));
  setHandler(paymentFailedSignal, ({ code }) => void (paymentNews ??= { code }));
  setHandler(
    cancelUpdate,
    async (_request: { reason?: string }) => {
      saga.cancel();
      await condition(() => finished);
      return state;
    },
    {
      validator: (_request: { reason?: string }) => {
        if (pastPointOfNoReturn || isTerminal(state.status)) {
          throw new Error('Only a booking that is not yet confirmed can be cancelled this way.');
        }
      },
    },
  );

  function setPayment(payment: PaymentState) {
    state.payment = payment;
    upsertSearchAttributes([{ key: PaymentStateAttribute, value: payment }]);
  }

  async function moveTo(status: BookingStatus, reason?: BookingState['failure']) {
    state.status = status;
    state.failure = reason;
    state.timeline.push({ status, at: new Date().toISOString() });
    upsertSearchAttributes([{ key: BookingStatusAttribute, value: status }]);
    await record.setBookingStatus({ bookingId: input.bookingId, status, failure: reason });
  }

  upsertSearchAttributes([
    { key: BookingStatusAttribute, value: 'PENDING' },
    { key: PaymentStateAttribute, value: 'NONE' },
    { key: ProvidersAttribute, value: [...new Set(input.offers.map((o) => o.provider))] },
    { key: CurrencyAttribute, value: input.offers[0]?.currency ?? 'EUR' },
  ]);

  const undoFirst = proxyActivities<Activities>(
    firstCompensationTries(input.compensationAlertAttempts ?? DEFAULT_COMPENSATION_ALERT_ATTEMPTS),
  );
  const compensations: Undo[] = [];
  const holdUndos: Undo[] = [];
  // Never gives up: after the first tries the booking shows NEEDS_ATTENTION while retrying goes on.
  async function compensate(undo: Undo) {
    try {
      await undo(undoFirst);
    } catch {
      if (state.status !== 'NEEDS_ATTENTION') {
        await moveTo('NEEDS_ATTENTION', { code: 'COMPENSATION_STUCK', message: 'An undo step keeps failing; it is being retried.' });
      }
      await undo(undoPersistently);
    }
  }
  try {
    await saga.run(async () => {
      const priced = await forward.repriceOffers({ bookingId: input.bookingId, seats: input.seats, offers: input.offers });
      upsertSearchAttributes([{ key: TotalAmountMinorAttribute, value: priced.totalMinor }]);

      const holds: Array<{ offerId: string; provider: string; holdId: string; expiresAt: string }> = [];
      for (const item of priced.items) {
        const offer = { ...step, offerId: item.offerId, provider: item.provider };
        const release: Undo = (acts) => acts.releaseHold(offer);
        compensations.unshift(release);
        holdUndos.push(release);
        const hold = await forward.holdOffer({ ...offer, seats: input.seats });
        holds.push({ ...item, ...hold });
      }
      const earliestExpiry = Math.min(...holds.map((h) => Date.parse(h.expiresAt)));
      upsertSearchAttributes([{ key: HoldExpiresAtAttribute, value: new Date(earliestExpiry) }]);
      await moveTo('HELD');

      const charge = { ...step, amountMinor: priced.totalMinor, currency: priced.currency, paymentMethodId: input.paymentMethodId };
      compensations.unshift(async (acts) => {
        // Histories recorded before the refund branch carry no result here, and read as VOIDED.
        const undone = await acts.voidPayment(charge);
        if (state.payment !== 'NONE') setPayment(undone === 'REFUNDED' ? 'REFUNDED' : 'VOIDED');
      });
      const authorization = await forward.authorizePayment(charge);

      if (authorization.status === 'requires_action') {
        setPayment('REQUIRES_ACTION');
        await moveTo('AWAITING_PAYMENT');
        // A webhook only wakes the saga; the PaymentIntent's own status decides.
        for (;;) {
          const answered = await condition(() => paymentNews !== undefined, Math.max(1, earliestExpiry - Date.now()));
          if (!answered) throw failure('HOLD_EXPIRED', 'The hold expired before payment completed.');
          if (paymentNews !== 'succeeded') throw failure('PAYMENT_DECLINED', 'The card was declined.');
          const status = await forward.paymentStatus({ paymentIntentId: authorization.paymentIntentId });
          if (status === 'requires_capture' || status === 'succeeded') break;
          if (status !== 'requires_action' && status !== 'processing') throw failure('PAYMENT_DECLINED', 'The card was declined.');
          paymentNews = undefined;
        }
      }
      setPayment('AUTHORIZED');

      // From the first ticket on, the booking goes forward or is compensated, never cancelled.
      pastPointOfNoReturn = true;
      for (const hold of holds) await forward.confirmHold({ ...step, ...hold });
      await forward.capturePayment({ ...step, paymentIntentId: authorization.paymentIntentId, amountMinor: priced.totalMinor, currency: priced.currency });
      setPayment('CAPTURED');
    });
    await moveTo('CONFIRMED');
    finished = true;
    return state;
  } catch (error) {
    // Undo newest-first, and never let a cancellation of this workflow skip an undo.
    await CancellationScope.nonCancellable(async () => {
      for (const undo of compensations) await compensate(undo);
    });
    const type = (error as { type?: string }).type;
    const outcome: [BookingStatus, BookingState['failure']] = isCancellation(error)
      ? ['CANCELLED', undefined]
      : type === 'HOLD_EXPIRED'
        ? ['EXPIRED', { code: 'HOLD_EXPIRED', message: 'The hold expired before payment completed.' }]
        : ['FAILED', failureOf(error) ?? { code: 'INTERNAL', message: 'The booking could not be completed.' }];
    await CancellationScope.nonCancellable(() => moveTo(...outcome));
    finished = true;
    // Late success: a provider may grant a hold after refusing or timing out; look once more, later.
    // Added after release, hence patched(): histories recorded before it replay without the sweep.
    if (holdUndos.length > 0 && patched('late-success-sweep')) {
      await CancellationScope.nonCancellable(async () => {
        await sleep(input.lateSuccessSweepMs ?? DEFAULT_LATE_SUCCESS_SWEEP_MS);
        for (const undo of holdUndos) await undo(undoPersistently);
      });
    }
    return state;
  }
}
