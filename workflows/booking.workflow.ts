import {
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  setWorkflowOptions,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { isTerminal, type BookingStatus } from '../domain/booking-status.js';
import { isBookingFailureCode } from '../domain/errors.js';
import type { Activities } from '../activities/index.js';
import type { Authorization } from '../activities/booking.ports.js';
import {
  CAPTURE_DEADLINE_MARGIN_MS,
  CAPTURE_PERSISTENTLY,
  COMPENSATION_STEP,
  DEFAULT_COMPENSATION_ALERT_ATTEMPTS,
  firstCompensationTries,
  FORWARD_STEP,
  forwardTries,
  RECORD_LOCALLY,
  RECORD_STEP,
} from './activity-options.js';
import { DEFAULT_LATE_SUCCESS_SWEEP_MS, HOLD_EXPIRY_MARGIN_MS } from './booking.constants.js';
import {
  BookingStatusAttribute,
  CurrencyAttribute,
  HoldExpiresAtAttribute,
  PaymentStateAttribute,
  ProvidersAttribute,
  TotalAmountMinorAttribute,
} from './search-attributes.js';
import { versioning } from './versioning.js';

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
  /** Tries of each forward step (12 unless set); from config, so tests can make the budget short. */
  forwardAttempts?: number;
}

export type PaymentState = 'NONE' | 'CREATED' | 'REQUIRES_ACTION' | 'AUTHORIZED' | 'CAPTURED' | 'VOIDED' | 'REFUNDED';

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
/**
 * An operator marks a stuck undo as done by hand (after releasing the hold or voiding the payment
 * themselves); the saga stops retrying it. The API audits who did (POST /admin/cases/{id}/resolve).
 */
export const resolveUndoUpdate = defineUpdate<BookingState, [{ undo: string }]>('resolveUndo');

/**
 * Changes to this released workflow, each behind patched() so histories recorded before it replay.
 * payment-intent-first: the PaymentIntent is created unconfirmed and its id recorded before the
 *   card is authorized; the undo voids by that id and never authorizes anything.
 * three-d-secure-rereads: the wait ends before the hold expires, and every wake-up (a webhook,
 *   a failure signal, the timeout) reads the PaymentIntent before deciding.
 * point-of-no-return: once tickets are being issued nothing undoes them: a workflow cancellation
 *   waits for the end, and a capture that keeps failing retries until the authorization nears its end.
 * undo-concurrently: independent undos run together; a stuck one flags NEEDS_ATTENTION and never
 *   skips the others; an operator can resolve it.
 * cancel-answers-at-once: the cancel update completes as soon as the saga has taken the cancel,
 *   so a caller can wait for its outcome: a refusal (past the point of no return) is then an error.
 *   A caller waiting only for ACCEPTED is handed a refused update without one (the SDK's way).
 * settled-status-locally: HELD, AWAITING_PAYMENT and CONFIRMED are written by a local activity
 *   (a CONFIRMED after the saga's own NEEDS_ATTENTION excepted, see moveTo).
 *   Such a write runs before the server accepts its workflow task; if the task is lost and retried
 *   with news in between (a cancel), the retry may decide otherwise. Each of the three follows the
 *   recorded success of a step (the holds, the 3-D Secure answer, the capture), so it stays true
 *   whatever the retry decides, and every status the retry can then write (CANCELLED, FAILED,
 *   NEEDS_ATTENTION, CONFIRMED) is one the state machine allows after it. The statuses a cancel or
 *   a timer decides (CANCELLED, FAILED, EXPIRED, NEEDS_ATTENTION) stay regular activities, scheduled
 *   only once their task is accepted: the chaos suite once caught a CANCELLED written by a local
 *   activity in a task the server then refused, and the booking charged after it.
 */
const PATCH = {
  paymentIntentFirst: 'payment-intent-first',
  threeDSecureRereads: 'three-d-secure-rereads',
  pointOfNoReturn: 'point-of-no-return',
  undoConcurrently: 'undo-concurrently',
  cancelAnswersAtOnce: 'cancel-answers-at-once',
  settledStatusLocally: 'settled-status-locally',
} as const;

/** Statuses a retry of the workflow task that writes them cannot contradict (PATCH.settledStatusLocally). */
const SETTLED_STATUSES: ReadonlySet<BookingStatus> = new Set(['HELD', 'AWAITING_PAYMENT', 'CONFIRMED']);

const undoPersistently = proxyActivities<Activities>(COMPENSATION_STEP);
/** A named undo: operators resolve a stuck one by its name. */
interface Undo {
  name: string;
  run: (activities: Activities) => Promise<void>;
}
const record = proxyActivities<Activities>(RECORD_STEP);
const recordLocally = proxyLocalActivities<Activities>(RECORD_LOCALLY);
const AUTHORIZATION_VALIDITY_MS = 7 * 24 * 60 * 60_000;

/** The first failure in a cause chain that carries one of our business codes. */
function failureOf(error: unknown): { code: string; message: string } | undefined {
  for (let e = error as { type?: string; message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (isBookingFailureCode(e.type)) return { code: e.type, message: e.message ?? e.type };
  }
  return undefined;
}

const failure = (type: string, message: string) => Object.assign(new Error(message), { type });

// Worker Versioning (README "Deploying workflow changes"): a saga finishes on the build it started on.
// It lasts minutes (the 3-D Secure wait ends before the hold expires, the late-success sweep two minutes
// after a failure), so the old build drains soon after a roll and a change needs no patched() to be safe;
// one stuck in an undo an operator must resolve is moved by hand (README), once its history replays on the new build.
setWorkflowOptions(versioning('PINNED'), bookingWorkflow);

/** search → re-price → hold → pay → confirm, with each undo registered before its step. */
export async function bookingWorkflow(input: BookingWorkflowInput): Promise<BookingState> {
  const { workflowId } = workflowInfo();
  const step = { bookingId: input.bookingId, workflowId };
  const state: BookingState = { status: 'PENDING', payment: 'NONE', timeline: [{ status: 'PENDING', at: new Date().toISOString() }] };
  let paymentNews: 'succeeded' | { code: string } | undefined;
  let pastPointOfNoReturn = false;
  const forward = proxyActivities<Activities>(input.forwardAttempts ? forwardTries(input.forwardAttempts) : FORWARD_STEP);
  const stuckUndos = new Set<string>();
  const resolvedUndos = new Set<string>();
  let finished = false; // the final state is recorded in Postgres too
  const saga = new CancellationScope();
  let captured = false;

  setHandler(statusQuery, () => state);
  setHandler(paymentSucceededSignal, () => void (paymentNews ??= 'succeeded'));
  setHandler(paymentFailedSignal, ({ code }) => void (paymentNews ??= { code }));
  setHandler(
    cancelUpdate,
    async (_request: { reason?: string }) => {
      saga.cancel();
      // The undos run on; the caller follows the booking to CANCELLED.
      if (patched(PATCH.cancelAnswersAtOnce)) return state;
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

  setHandler(
    resolveUndoUpdate,
    ({ undo }: { undo: string }) => {
      resolvedUndos.add(undo);
      return state;
    },
    {
      validator: ({ undo }: { undo: string }) => {
        if (!stuckUndos.has(undo)) throw new Error('No undo of this name is stuck.');
      },
    },
  );

  function setPayment(payment: PaymentState) {
    state.payment = payment;
    upsertSearchAttributes([{ key: PaymentStateAttribute, value: payment }]);
  }

  async function moveTo(status: BookingStatus, reason?: BookingState['failure']) {
    const previous = state.status;
    state.status = status;
    state.failure = reason;
    state.timeline.push({ status, at: new Date().toISOString() });
    upsertSearchAttributes([{ key: BookingStatusAttribute, value: status }]);
    // A CONFIRMED after the saga's own NEEDS_ATTENTION (a capture that took after retrying) stays a
    // regular activity: a status alone cannot tell that flag from a stuck cancellation's.
    const local = SETTLED_STATUSES.has(status) && previous !== 'NEEDS_ATTENTION' && patched(PATCH.settledStatusLocally);
    // A local CONFIRMED may run again after a lost workflow task, later than the booking's
    // cancellation (which starts from CONFIRMED) set NEEDS_ATTENTION: it moves only from the
    // statuses the saga itself can have left.
    const from = local && status === 'CONFIRMED' ? ['HELD', 'AWAITING_PAYMENT'] : undefined;
    await (local ? recordLocally : record).setBookingStatus({ bookingId: input.bookingId, status, failure: reason, from });
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
  const COMPENSATION_STUCK = { code: 'COMPENSATION_STUCK', message: 'An undo step keeps failing; it is being retried.' };
  // Never gives up: after the first tries the booking shows NEEDS_ATTENTION while retrying goes on.
  async function compensate(undo: Undo) {
    try {
      await undo.run(undoFirst);
    } catch {
      if (state.status !== 'NEEDS_ATTENTION') await moveTo('NEEDS_ATTENTION', COMPENSATION_STUCK);
      await undo.run(undoPersistently);
    }
  }
  // As compensate, but a failure retrying cannot cure (a non-retryable one) waits for an operator
  // instead of escaping and skipping the other undos, and an operator may end any stuck undo.
  async function compensateUntilDone(undo: Undo) {
    try {
      await undo.run(undoFirst);
      return;
    } catch {
      // flagged below
    }
    stuckUndos.add(undo.name);
    if (state.status !== 'NEEDS_ATTENTION') await moveTo('NEEDS_ATTENTION', COMPENSATION_STUCK);
    const retrying = new CancellationScope();
    const outcome = await Promise.race([
      retrying.run(() => undo.run(undoPersistently)).then(
        () => 'done' as const,
        () => 'failed' as const,
      ),
      condition(() => resolvedUndos.has(undo.name)).then(() => 'resolved' as const),
    ]);
    if (outcome === 'resolved') retrying.cancel();
    if (outcome === 'failed') await condition(() => resolvedUndos.has(undo.name));
    stuckUndos.delete(undo.name);
  }
  async function compensateAll() {
    if (patched(PATCH.undoConcurrently)) await Promise.all(compensations.map(compensateUntilDone));
    else for (const undo of compensations) await compensate(undo);
  }

  /**
   * Past the point of no return: a capture that keeps failing must not cancel issued tickets. It
   * goes on (NEEDS_ATTENTION meanwhile) until the authorization nears its end; false if it never took.
   */
  async function captureBeforeLapse(authorization: Authorization, authorizedAt: number, amountMinor: number, currency: string) {
    const args = { ...step, paymentIntentId: authorization.paymentIntentId, amountMinor, currency };
    try {
      await forward.capturePayment(args);
      return true;
    } catch {
      // The forward tries are spent: the tickets stand, so the capture goes on.
    }
    await moveTo('NEEDS_ATTENTION', { code: 'CAPTURE_STUCK', message: 'The tickets are issued; taking the payment keeps failing and is being retried.' });
    const lapsesAt = authorization.captureBefore ? Date.parse(authorization.captureBefore) : authorizedAt + AUTHORIZATION_VALIDITY_MS;
    const persist = proxyActivities<Activities>({
      ...CAPTURE_PERSISTENTLY,
      scheduleToCloseTimeout: Math.max(60_000, lapsesAt - CAPTURE_DEADLINE_MARGIN_MS - Date.now()),
    });
    try {
      await persist.capturePayment(args);
      return true;
    } catch {
      await moveTo('NEEDS_ATTENTION', { code: 'CAPTURE_FAILED', message: 'The tickets are issued but the payment could not be taken; an operator resolves it.' });
      return false;
    }
  }

  try {
    await saga.run(async () => {
      const priced = await forward.repriceOffers({ bookingId: input.bookingId, seats: input.seats, offers: input.offers });
      upsertSearchAttributes([{ key: TotalAmountMinorAttribute, value: priced.totalMinor }]);

      const holds: Array<{ offerId: string; provider: string; holdId: string; expiresAt: string }> = [];
      for (const item of priced.items) {
        const offer = { ...step, offerId: item.offerId, provider: item.provider };
        const release: Undo = { name: `release-hold:${item.offerId}`, run: (acts) => acts.releaseHold(offer) };
        compensations.unshift(release);
        holdUndos.push(release);
        const hold = await forward.holdOffer({ ...offer, seats: input.seats });
        holds.push({ ...item, ...hold });
      }
      const earliestExpiry = Math.min(...holds.map((h) => Date.parse(h.expiresAt)));
      upsertSearchAttributes([{ key: HoldExpiresAtAttribute, value: new Date(earliestExpiry) }]);
      await moveTo('HELD');

      const charge = { ...step, amountMinor: priced.totalMinor, currency: priced.currency, paymentMethodId: input.paymentMethodId };
      const paymentUndone = (undone: 'VOIDED' | 'REFUNDED' | 'NONE' | undefined) => {
        // Histories recorded before the refund branch carry no result here, and read as VOIDED.
        if (state.payment !== 'NONE') setPayment(undone === 'REFUNDED' ? 'REFUNDED' : 'VOIDED');
      };
      let authorization: Authorization;
      if (patched(PATCH.paymentIntentFirst)) {
        // Declared before the undo that reads it: the undo may run before the create answers (then it finds none).
        // eslint-disable-next-line prefer-const
        let paymentIntentId: string | undefined;
        compensations.unshift({ name: 'void-payment', run: async (acts) => paymentUndone(await acts.voidPayment({ ...charge, paymentIntentId })) });
        paymentIntentId = (await forward.createPaymentIntent(charge)).paymentIntentId;
        setPayment('CREATED');
        authorization = await forward.confirmPaymentIntent({ ...charge, paymentIntentId });
      } else {
        compensations.unshift({ name: 'void-payment', run: async (acts) => paymentUndone(await acts.voidPayment(charge)) });
        authorization = await forward.authorizePayment(charge);
      }
      const authorizedAt = Date.now();

      if (authorization.status === 'requires_action') {
        setPayment('REQUIRES_ACTION');
        await moveTo('AWAITING_PAYMENT');
        if (patched(PATCH.threeDSecureRereads)) {
          // Decided before the hold lapses, so a confirmed payment still has a hold to ticket.
          const deadline = earliestExpiry - Math.min(HOLD_EXPIRY_MARGIN_MS, Math.max(0, earliestExpiry - Date.now()) / 4);
          for (;;) {
            const woken = await condition(() => paymentNews !== undefined, Math.max(1, deadline - Date.now()));
            // Cleared before the read: news arriving while it runs wakes the next round.
            paymentNews = undefined;
            // A webhook or a failure signal only wakes the saga; the PaymentIntent's own status decides.
            const status = await forward.paymentStatus({ paymentIntentId: authorization.paymentIntentId });
            if (status === 'requires_capture' || status === 'succeeded') break;
            if (status === 'requires_payment_method' || status === 'canceled') throw failure('PAYMENT_DECLINED', 'The card was declined.');
            if (!woken) throw failure('HOLD_EXPIRED', 'The hold expired before payment completed.');
          }
        } else {
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
      }
      setPayment('AUTHORIZED');

      // From the first ticket on, the booking goes forward or is compensated, never cancelled.
      pastPointOfNoReturn = true;
      if (patched(PATCH.pointOfNoReturn)) {
        // Shielded: a cancellation of the workflow (Web UI, CLI) now waits for the end instead of undoing.
        await CancellationScope.nonCancellable(async () => {
          for (const hold of holds) await forward.confirmHold({ ...step, ...hold });
          captured = await captureBeforeLapse(authorization, authorizedAt, priced.totalMinor, priced.currency);
        });
      } else {
        for (const hold of holds) await forward.confirmHold({ ...step, ...hold });
        await forward.capturePayment({ ...step, paymentIntentId: authorization.paymentIntentId, amountMinor: priced.totalMinor, currency: priced.currency });
        captured = true;
      }
      if (captured) setPayment('CAPTURED');
    });
    if (patched(PATCH.pointOfNoReturn)) {
      // The tickets stand whatever happens now: NEEDS_ATTENTION (uncaptured) or CONFIRMED.
      if (captured) await CancellationScope.nonCancellable(() => moveTo('CONFIRMED'));
    } else {
      await moveTo('CONFIRMED');
    }
    finished = true;
    return state;
  } catch (error) {
    // Undo newest-first, and never let a cancellation of this workflow skip an undo.
    await CancellationScope.nonCancellable(compensateAll);
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
        for (const undo of holdUndos) await undo.run(undoPersistently);
      });
    }
    return state;
  }
}
