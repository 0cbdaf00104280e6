import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { temporal as proto } from '@temporalio/proto';
import type Stripe from 'stripe';
import { TERMINAL_STATUSES } from '../../domain/booking-status.js';
import { statusQuery } from '../../workflows/booking.workflow.js';
import { completeChallenge, threeDSecureCard } from '../support/three-d-secure.js';
import {
  awaitHistory,
  awaitStatus,
  book,
  cancel,
  config,
  deleteAccount,
  deliverWebhook,
  findFlightAndHotel,
  findOffer,
  firstStartedSince,
  log,
  newTraveller,
  paymentIntentOf,
  promoteToAdmin,
  refundAsAdmin,
  putFaults,
  resetFaults,
  settleAtStripeFake,
  triggerSchedule,
  withFaults,
  type Booked,
  type Started,
} from './recorder-client.js';

/**
 * The paths `npm run record:histories` drives over HTTP against the running stack, one recorded
 * history each. Some want the stack started with short test durations (each says which).
 */

export interface Context {
  temporal: Client;
  codec: PayloadCodec;
  stripe: Stripe;
}

/** One event of a history as `temporal workflow show --output json` prints it, as far as paths check it. */
export interface HistoryEvent {
  eventType?: string;
  markerRecordedEventAttributes?: { markerName?: string };
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
  workflowExecutionSignaledEventAttributes?: { signalName?: string };
}

export interface Path {
  name: string;
  /**
   * What the booking ends as; for a workflow that ends no booking, what the workflow returns, or that
   * the recorded run continues as new (the first run of the chain is the history recorded).
   */
  expected: { status: string; failureCode?: string } | { result: unknown } | { continuedAsNew: true };
  run(ctx: Context): Promise<Started>;
  /** Why the recorded history is not the path named, if it is not (a race lost, a fault missed). */
  verify?(events: HistoryEvent[]): string | undefined;
}

/** The hold TTL the hold-expired path asks the sandbox for (the `holdTtlMs` fault). */
const SHORT_HOLD_TTL_MS = 8_000;
/** How slow the flight supplier answers while a workflow cancellation is aimed at its confirmHold. */
const SLOW_SUPPLIER_MS = 4_000;
/** The longest account-deletion grace period a path waits out. */
const MAX_GRACE_MS = 2 * 60_000;

const TERMINAL: ReadonlySet<string> = TERMINAL_STATUSES;
const isAwaitingPayment = (s: string) => s === 'AWAITING_PAYMENT' || TERMINAL.has(s);

const activityNames = (events: HistoryEvent[]) => events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
const signals = (events: HistoryEvent[]) => events.flatMap((e) => e.workflowExecutionSignaledEventAttributes?.signalName ?? []);
const indexOf = (events: HistoryEvent[], eventType: string) => events.findIndex((e) => e.eventType === eventType);
const CANCEL_REQUESTED = 'EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED';
const scheduledName = (e: proto.api.history.v1.IHistoryEvent) => e.activityTaskScheduledEventAttributes?.activityType?.name;
const stripeFake = (stripe: Stripe) => ({ apiUrl: config.stripe.apiUrl, secretKey: config.stripe.secretKey, client: stripe });

/** A path that books once (so there is something to act on), then records the run a Schedule starts. */
function scheduledPath(scheduleId: string): Path {
  return {
    name: scheduleId,
    expected: { status: 'CONFIRMED' },
    async run({ temporal }) {
      const started = await book(await newTraveller(), 'pm_card_visa');
      await awaitStatus(started, (s) => TERMINAL.has(s), 90_000, 'CONFIRMED');
      return { ...started, workflowId: await triggerSchedule(temporal, scheduleId) };
    },
  };
}

/** A 3-D Secure booking left waiting for the traveller's challenge. */
async function awaitingChallenge({ temporal, stripe, codec }: Context): Promise<Booked & { paymentIntentId: string }> {
  const started = await book(await newTraveller(), await threeDSecureCard(stripe));
  await awaitStatus(started, isAwaitingPayment, 60_000, 'AWAITING_PAYMENT');
  return { ...started, paymentIntentId: await paymentIntentOf(temporal, codec, started.workflowId) };
}

/** Deletes the traveller's account and waits out its grace period: the data key is destroyed when this returns. */
async function eraseAccount(temporal: Client, started: Started): Promise<string> {
  const { workflowId, scheduledFor } = await deleteAccount(started.traveller);
  const graceMs = Date.parse(scheduledFor) - Date.now();
  if (graceMs > MAX_GRACE_MS) {
    throw new Error(`the API erases accounts ${Math.round(graceMs / 60_000)} min after deletion: start it with a small ACCOUNT_DELETION_GRACE_MS (5000)`);
  }
  const outcome = await temporal.workflow.getHandle(workflowId).result();
  if (outcome !== 'erased') throw new Error(`the account deletion ended ${JSON.stringify(outcome)}, not erased`);
  return workflowId;
}

export const paths: Path[] = [
  {
    name: 'confirmed',
    expected: { status: 'CONFIRMED' },
    run: async () => book(await newTraveller(), 'pm_card_visa'),
  },
  {
    name: 'payment-declined',
    expected: { status: 'FAILED', failureCode: 'PAYMENT_DECLINED' },
    run: async () => book(await newTraveller(), 'pm_card_visa_chargeDeclined'),
  },
  {
    // A payment method Stripe does not know: refused at once, the hold released, nothing to void.
    name: 'payment-method-invalid',
    expected: { status: 'FAILED', failureCode: 'PAYMENT_METHOD_INVALID' },
    run: async () => book(await newTraveller(), 'pm_doesnotexist'),
  },
  {
    // 3-D Secure refused in the browser: the webhook wakes the saga, which reads the refusal.
    name: 'three-d-secure-refused',
    expected: { status: 'FAILED', failureCode: 'PAYMENT_DECLINED' },
    async run(ctx) {
      const started = await awaitingChallenge(ctx);
      await completeChallenge(stripeFake(ctx.stripe), started.paymentIntentId, false);
      return started;
    },
    verify: (events) => (signals(events).includes('paymentFailed') ? undefined : 'no paymentFailed signal: the webhook did not arrive'),
  },
  {
    name: 'three-d-secure-confirmed',
    expected: { status: 'CONFIRMED' },
    async run(ctx) {
      const started = await awaitingChallenge(ctx);
      await completeChallenge(stripeFake(ctx.stripe), started.paymentIntentId, true);
      return started;
    },
  },
  {
    // The bank has not answered yet (`pm_card_processing`, a hook of the Stripe fake): a webhook that wakes
    // the saga meanwhile (Stripe neither orders nor dedupes deliveries) is read as `processing`, and the
    // saga waits again; the bank then authorizes and the saga tickets.
    name: 'payment-processing-rewait',
    expected: { status: 'CONFIRMED' },
    async run({ temporal, stripe, codec }) {
      const started = await book(await newTraveller(), 'pm_card_processing');
      await awaitStatus(started, isAwaitingPayment, 60_000, 'AWAITING_PAYMENT');
      const paymentIntentId = await paymentIntentOf(temporal, codec, started.workflowId);
      // A payment_failed out of order, carrying the PaymentIntent as Stripe has it now (processing).
      await deliverWebhook(stripe, 'payment_intent.payment_failed', await stripe.paymentIntents.retrieve(paymentIntentId));
      await awaitHistory(
        temporal,
        started.workflowId,
        (events) => {
          const read = events.findIndex((e) => scheduledName(e) === 'paymentStatus');
          return read >= 0 && events.slice(read).some((e) => e.timerStartedEventAttributes);
        },
        30_000,
        'the saga to read the processing payment and wait again',
      );
      await settleAtStripeFake(paymentIntentId);
      return started;
    },
    verify: (events) =>
      activityNames(events).filter((name) => name === 'paymentStatus').length >= 2 ? undefined : 'the saga read the payment fewer than twice: no re-wait',
  },
  {
    name: 'provider-rejects-confirmation',
    expected: { status: 'FAILED', failureCode: 'PROVIDER_REJECTED' },
    run: () =>
      withFaults({ rejectConfirm: true }, async () => {
        const started = await book(await newTraveller(), 'pm_card_visa');
        await awaitStatus(started, (s) => TERMINAL.has(s), 90_000, 'a final status');
        return started;
      }),
  },
  {
    // A flight and a room in one booking: the airline tickets, the hotel refuses its reservation; the saga
    // undoes both (the issued ticket too) and voids the payment.
    name: 'multi-offer-partial-confirm',
    expected: { status: 'FAILED', failureCode: 'PROVIDER_REJECTED' },
    async run() {
      const traveller = await newTraveller();
      const offers = await findFlightAndHotel(traveller);
      return withFaults(
        { rejectConfirm: true },
        async () => {
          const started = await book(traveller, 'pm_card_visa', offers);
          await awaitStatus(started, (s) => TERMINAL.has(s), 90_000, 'a final status');
          return started;
        },
        'hotels',
      );
    },
    verify: (events) => (activityNames(events).filter((name) => name === 'confirmHold').length === 2 ? undefined : 'not one confirmHold per offer'),
  },
  {
    name: 'price-changed',
    expected: { status: 'FAILED', failureCode: 'PRICE_CHANGED' },
    async run() {
      const offer = await findOffer(); // the price the traveller was shown, before it rises
      const rise = config.providers.priceTolerancePercent + 10;
      return withFaults({ priceIncreasePercent: rise }, async () => {
        const started = await book(await newTraveller(), 'pm_card_visa', [offer]);
        await awaitStatus(started, (s) => TERMINAL.has(s), 90_000, 'a final status');
        return started;
      });
    },
  },
  {
    // The traveller's account is erased (DELETE /users/me, then its grace period) while 3-D Secure is pending:
    // the passengers can no longer be read to ticket, so the saga fails for good and undoes.
    // Record with a small ACCOUNT_DELETION_GRACE_MS (5000) in the API's environment.
    name: 'passenger-data-erased',
    expected: { status: 'FAILED', failureCode: 'PASSENGER_DATA_ERASED' },
    async run(ctx) {
      const started = await awaitingChallenge(ctx);
      await eraseAccount(ctx.temporal, started);
      await completeChallenge(stripeFake(ctx.stripe), started.paymentIntentId, true);
      // Its traveller is signed out for good: the booking is read from the saga's status query.
      const saga = ctx.temporal.workflow.getHandle(started.workflowId);
      return { ...started, readBooking: async () => ({ bookingId: started.bookingId, ...(await saga.query(statusQuery)) }) };
    },
  },
  {
    // Cancelled by the traveller while 3-D Secure is pending: the `cancel` update, then compensation.
    name: 'cancelled-before-confirmation',
    expected: { status: 'CANCELLED' },
    async run(ctx) {
      const started = await awaitingChallenge(ctx);
      await cancel(started);
      return started;
    },
  },
  {
    // A workflow cancellation, as the Web UI or `temporal workflow cancel` sends it, while 3-D Secure is
    // pending: before the point of no return the saga undoes and the booking ends CANCELLED.
    name: 'workflow-cancelled-before-confirmation',
    expected: { status: 'CANCELLED' },
    async run(ctx) {
      const started = await awaitingChallenge(ctx);
      await ctx.temporal.workflow.getHandle(started.workflowId).cancel();
      return started;
    },
    verify: (events) => (indexOf(events, CANCEL_REQUESTED) >= 0 ? undefined : 'no cancellation request in the history'),
  },
  {
    // The same cancellation while the first ticket is being issued (a slow supplier holds confirmHold open):
    // past the point of no return nothing is undone, and the booking ends CONFIRMED, captured.
    name: 'workflow-cancelled-after-point-of-no-return',
    expected: { status: 'CONFIRMED' },
    async run({ temporal }) {
      const traveller = await newTraveller();
      const offer = await findOffer(); // searched before the supplier slows down
      return withFaults({ latencyMs: SLOW_SUPPLIER_MS }, async () => {
        const started = await book(traveller, 'pm_card_visa', [offer]);
        await awaitHistory(temporal, started.workflowId, (events) => events.some((e) => scheduledName(e) === 'confirmHold'), 90_000, 'confirmHold');
        await temporal.workflow.getHandle(started.workflowId).cancel();
        return started;
      });
    },
    verify(events) {
      const requested = indexOf(events, CANCEL_REQUESTED);
      const confirming = events.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'confirmHold');
      if (requested < 0 || requested < confirming) return 'the cancellation did not land after confirmHold began';
      const undone = activityNames(events).filter((name) => name === 'releaseHold' || name === 'voidPayment');
      return undone.length > 0 ? `undone after the point of no return: ${undone.join(', ')}` : undefined;
    },
  },
  {
    // Cancelled after confirmation: the cancellation workflow cancels at the provider and refunds per fare rule.
    name: 'cancelled-after-confirmation',
    expected: { status: 'REFUNDED' },
    async run() {
      const started = await book(await newTraveller(), 'pm_card_visa', [await findOffer('STANDARD')]);
      await awaitStatus(started, (s) => TERMINAL.has(s), 90_000, 'CONFIRMED');
      await cancel(started);
      return { ...started, workflowId: `cancel-${started.bookingId}` };
    },
  },
  {
    // The cancellation workflow's patched('cancellation-needs-attention'): the supplier refuses to cancel,
    // the booking shows NEEDS_ATTENTION while the step goes on, and the run ends once the supplier recovers.
    // Record with a small COMPENSATION_ALERT_ATTEMPTS in the API's environment, or this waits a minute.
    name: 'cancellation-needs-attention',
    expected: { status: 'REFUNDED' },
    async run() {
      const started = await book(await newTraveller(), 'pm_card_visa', [await findOffer('STANDARD')]);
      await awaitStatus(started, (s) => TERMINAL.has(s), 90_000, 'CONFIRMED');
      await withFaults({ failRelease: true }, async () => {
        await cancel(started);
        await awaitStatus(started, (s) => s === 'NEEDS_ATTENTION', 120_000, 'NEEDS_ATTENTION');
      });
      return { ...started, workflowId: `cancel-${started.bookingId}` };
    },
    verify: (events) =>
      activityNames(events).filter((name) => name === 'cancelAtProvider').length >= 2 ? undefined : 'the cancellation did not go on after its first tries',
  },
  {
    // An admin refunds a confirmed booking in full (POST /admin/bookings/{id}/refund): the refund workflow.
    name: 'admin-refund',
    expected: { status: 'REFUNDED' },
    async run() {
      const started = await book(await newTraveller(), 'pm_card_visa');
      await awaitStatus(started, (s) => TERMINAL.has(s), 90_000, 'CONFIRMED');
      const admin = await promoteToAdmin(await newTraveller());
      const refundId = await refundAsAdmin(admin, started.bookingId);
      return { ...started, workflowId: refundId, traveller: { ...started.traveller, pii: [...started.traveller.pii, ...admin.pii] } };
    },
  },
  {
    // An undo keeps failing (the provider refuses releases): NEEDS_ATTENTION, then done once it recovers.
    // Record with a small COMPENSATION_ALERT_ATTEMPTS in the API's environment, or this waits minutes.
    name: 'needs-attention-then-failed',
    expected: { status: 'FAILED', failureCode: 'PROVIDER_REJECTED' },
    run: () =>
      withFaults({ rejectConfirm: true, failRelease: true }, async () => {
        const started = await book(await newTraveller(), 'pm_card_visa');
        await awaitStatus(started, (s) => s === 'NEEDS_ATTENTION' || TERMINAL.has(s), 300_000, 'NEEDS_ATTENTION');
        return started;
      }),
  },
  // The daily retention purge, the stalled-work sweep, the reconciler and the audit checkpoint, each
  // triggered on the Schedule the worker created.
  scheduledPath('retention-purge'),
  {
    // The purge continuing as a new run: a backlog longer than one run's 50 batches. Started by hand
    // on the stack's task queue with a batch of one row and every webhook event and spent auth record
    // past its period (0 days), after 26 bookings by two travellers have left more than 50 of them;
    // the first run, which ends in continue-as-new with both patches taken, is the history recorded.
    name: 'retention-purge-continued',
    expected: { continuedAsNew: true },
    async run({ temporal }) {
      let last: Booked | undefined;
      for (let traveller = 0; traveller < 2; traveller += 1) {
        const who = await newTraveller();
        for (let booking = 0; booking < 13; booking += 1) last = await book(who, 'pm_card_visa');
      }
      await awaitStatus(last!, (s) => TERMINAL.has(s), 90_000, 'CONFIRMED');
      const policy = { bookingPiiDays: 36_500, webhookEventDays: 0, authRecordDays: 0, auditMonths: 1_200, batchSize: 1 };
      const handle = await temporal.workflow.start('retentionPurgeWorkflow', {
        taskQueue: config.temporal.taskQueue,
        workflowId: `retention-purge-continued-${last!.bookingId}`,
        args: [policy],
      });
      return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, traveller: last!.traveller };
    },
    verify(events) {
      const markers = events.flatMap((e) => e.markerRecordedEventAttributes?.markerName ?? []);
      if (markers.filter((m) => m === 'core_patch').length < 2) return 'both patches (purge-auth-records, audit-trim) were not taken';
      return activityNames(events).filter((name) => name === 'deleteExpiredWebhookEvents').length === 50 ? undefined : 'the run did not go through its 50 batches';
    },
  },
  scheduledPath('stalled-work-sweep'),
  scheduledPath('reconciliation'),
  scheduledPath('audit-checkpoint'),
  {
    // The traveller deletes the account (DELETE /users/me); after the grace period it is erased.
    // Record with a small ACCOUNT_DELETION_GRACE_MS (5000) in the API's environment.
    name: 'account-deletion',
    expected: { result: 'erased' },
    async run({ temporal }) {
      const started = await book(await newTraveller(), 'pm_card_visa');
      await awaitStatus(started, (s) => TERMINAL.has(s), 90_000, 'CONFIRMED');
      return { workflowId: await eraseAccount(temporal, started), traveller: started.traveller };
    },
  },
  {
    // The mail a signup sends (its verification link), delivered by the notification workflow.
    name: 'notification',
    expected: { result: 'sent' },
    async run({ temporal }) {
      const since = new Date();
      const traveller = await newTraveller();
      return { workflowId: await firstStartedSince(temporal, 'notificationWorkflow', since), traveller };
    },
  },
  {
    // 3-D Secure is asked for and never completed: the saga's timer on the hold's expiry fires.
    name: 'hold-expired',
    expected: { status: 'EXPIRED', failureCode: 'HOLD_EXPIRED' },
    async run({ stripe }) {
      const paymentMethodId = await threeDSecureCard(stripe);
      const probe = await putFaults({ holdTtlMs: SHORT_HOLD_TTL_MS });
      if (!probe.ok) {
        await resetFaults();
        log(
          `  the running sandbox refused the holdTtlMs fault (${probe.status}): it predates it; restart it to get short holds.` +
            ` Waiting out its own hold TTL instead (about ${Math.round(config.sandbox.holdTtlMs / 60_000)} min).`,
        );
        return book(await newTraveller(), paymentMethodId);
      }
      return withFaults({ holdTtlMs: SHORT_HOLD_TTL_MS }, async () => {
        const started = await book(await newTraveller(), paymentMethodId);
        // Only new holds take the short TTL: the fault can go as soon as the hold is taken.
        await awaitStatus(started, (s) => s !== 'PENDING', 60_000, 'the hold');
        return started;
      });
    },
  },
];
