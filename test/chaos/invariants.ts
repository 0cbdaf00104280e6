import { WorkflowNotFoundError } from '@temporalio/client';
import { ReconciliationCase } from '../../infra/db/entities.js';
import { TERMINAL_STATUSES, type BookingStatus } from '../../domain/booking-status.js';
import { isFareRule, refundMinor } from '../../domain/fare-rules.js';
import { verifyAudit } from '../../infra/audit/audit-log.js';
import { AuditEntry, Booking, type IBooking } from '../../infra/db/entities.js';
import type { BookingState } from '../../workflows/booking.workflow.js';
import type { CancellationResult } from '../../workflows/cancellation.workflow.js';
import { probesOf } from '../support/probes.js';
import type { Stack } from '../support/stack.js';
import type { Submission } from './load.js';

/** Each invariant the chaos suite checks, named as the report lists them. */
export const INVARIANTS = [
  'every order made exactly one booking',
  'every booking terminal',
  'every saga finished, with the status Postgres shows',
  'provider holds agree with Postgres',
  'no hold left active without a CONFIRMED booking',
  'Stripe agrees with Postgres',
  'at most one PaymentIntent per booking',
  'no authorization left open without a CONFIRMED booking',
  'no PaymentIntent captured twice',
  'a declined card never confirms, a good one is never declined',
  'an unknown payment method or an abandoned 3-D Secure challenge never confirms',
  'every terminated saga is an open case, and left no hold or authorization open',
  'the reconciler finds nothing wrong with a booking whose saga finished',
  'a saga cancelled by an operator undoes only before the point of no return',
  'a 3-D Secure challenge the traveller completed is not left to expire',
  'an accepted cancellation is honoured and refunds once what the fare rule allows',
  'the audit chain verifies and ends at each booking’s status',
] as const;
type Invariant = (typeof INVARIANTS)[number];

export interface Verdict {
  /** Bookings by final status, failed ones by failure code, cancellation requests by the API's answer. */
  outcomes: Record<string, number>;
  failureCodes: Record<string, number>;
  cancelAnswers: Record<string, number>;
  violations: Array<{ invariant: Invariant; detail: string }>;
  auditRowsVerified: number;
  /** Cases the reconciler holds open for an operator after its pass, by kind (terminated sagas only, if all is well). */
  openCases: Record<string, number>;
}

type Violate = (invariant: Invariant, detail: string) => void;
/** What the checks read: Postgres, Temporal, the Stripe fake and the provider (a test stack, or the production profile's). */
export type InvariantStack = Pick<Stack, 'orm' | 'temporal' | 'stripe' | 'sandboxUrl' | 'config'>;
type Probes = ReturnType<typeof probesOf>;

/** A booking as every party should see it: `paid` once it was confirmed, even if cancelled since. */
interface Case {
  booking: IBooking;
  /** The cancellation workflow's outcome, for a booking cancelled after confirmation. */
  cancellation?: CancellationResult;
  paid: boolean;
  /** Its saga was terminated: a ticket and its capture may stand without a CONFIRMED status (the operator's case says so). */
  terminated?: boolean;
}

// What each Payment row's status must be at Stripe (a refund leaves the PaymentIntent succeeded).
const STRIPE_STATUS_OF: Record<string, string> = {
  AUTHORIZED: 'requires_capture',
  REQUIRES_ACTION: 'requires_action',
  CAPTURED: 'succeeded',
  REFUNDED: 'succeeded',
  VOIDED: 'canceled',
};

async function inBatches<T, R>(items: readonly T[], size: number, each: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) results.push(...(await Promise.all(items.slice(start, start + size).map(each))));
  return results;
}

const countBy = (values: Iterable<string>) => {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
};

/**
 * Reads Temporal, the provider, the Stripe fake, Postgres and the audit log independently and
 * reports every disagreement. Bookings may fail under faults; they may not be inconsistent.
 *
 * A saga an operator terminated (`terminatedSagas`, workflow ids) never finishes: its booking keeps
 * the status it had, and the reconciler's pass (run before this) must have released its holds,
 * voided its authorizations and opened a SAGA_TERMINATED case for an operator. Those bookings are
 * held to that instead of to a final status; money and seats are checked for them as for any other.
 */
export async function checkInvariants(
  stack: InvariantStack,
  submissions: readonly Submission[],
  options: {
    terminatedSagas?: ReadonlySet<string>;
    /** Workflow ids of the sagas an operator cancelled (a workflow cancellation request). */
    cancelledSagas?: ReadonlySet<string>;
    /** How many requests the Stripe fake's log keeps (its --log-requests; 5,000 unless started with more). */
    stripeLogCapacity?: number;
  } = {},
): Promise<Verdict> {
  const violations: Verdict['violations'] = [];
  const violate: Violate = (invariant, detail) => violations.push({ invariant, detail });
  const probes = probesOf(stack);
  const terminated = options.terminatedSagas ?? new Set<string>();

  // Postgres: every booking our travellers made, whether or not their client heard of it; read
  // again once every saga and cancellation has finished, so no check races a workflow still writing.
  const userIds = submissions.map((s) => s.order.traveller.userId);
  const load = () => stack.orm.em.fork().find(Booking, { user: { $in: userIds } }, { populate: ['items', 'payments'] });
  const finished = await settleWorkflows(stack, (await load()).filter((b) => !terminated.has(b.workflowId)), submissions, violate);
  const bookings = await load();
  const byId = new Map(bookings.map((b) => [b.id, b]));
  for (const s of submissions) {
    if (s.refused) violate('every order made exactly one booking', `${s.order.traveller.userId}: ${s.refused}`);
    else if (!s.bookingId || !byId.has(s.bookingId)) violate('every order made exactly one booking', `booking ${s.bookingId} is not in Postgres`);
  }
  for (const [user, count] of Object.entries(countBy(bookings.map((b) => b.user.id)))) {
    if (count > 1) violate('every order made exactly one booking', `user ${user} has ${count} bookings for one order`);
  }
  for (const b of bookings) {
    if (!TERMINAL_STATUSES.has(b.status as BookingStatus) && !terminated.has(b.workflowId)) violate('every booking terminal', `${b.id} is ${b.status}`);
  }
  await checkTerminated(stack, bookings.filter((b) => terminated.has(b.workflowId)), violate);
  const openCases = await checkCases(stack, bookings, terminated, violate);
  await checkOperatorCancels(stack, bookings.filter((b) => options.cancelledSagas?.has(b.workflowId)), violate);

  const cases = sagasAgree(bookings, finished, terminated, violate);
  checkHolds(await probes.holds(), cases, violate);
  await checkPayments(probes, cases, options.stripeLogCapacity ?? 5_000, violate);
  checkTravellers(submissions, byId, violate);

  // The audit log: the chain is intact, and its last word on each booking is the booking's status.
  const audit = await verifyAudit(stack.orm.em.fork(), stack.config.audit.hmacKey);
  if (!audit.ok) violate('the audit chain verifies and ends at each booking’s status', `seq ${audit.seq}: ${audit.reason}`);
  const rows = await stack.orm.em
    .fork()
    .find(AuditEntry, { action: 'booking.status_changed', resource: { $in: bookings.map((b) => `booking:${b.id}`) } }, { orderBy: { seq: 'asc' } });
  const lastWord = new Map(rows.map((row) => [row.resource.slice('booking:'.length), row.result]));
  for (const b of bookings) {
    // A booking is created PENDING; its first audited change is its saga's. An operator may terminate a saga before that.
    if ((lastWord.get(b.id) ?? 'PENDING') !== b.status) {
      violate('the audit chain verifies and ends at each booking’s status', `${b.id}: audit says ${lastWord.get(b.id)}, Postgres ${b.status}`);
    }
  }

  return {
    outcomes: countBy(bookings.map((b) => b.status)),
    failureCodes: countBy(bookings.filter((b) => b.failureCode).map((b) => b.failureCode!)),
    cancelAnswers: countBy(submissions.flatMap((s) => (s.cancel ? [String(s.cancel.status)] : []))),
    violations,
    auditRowsVerified: audit.checked,
    openCases,
  };
}

interface Finished {
  saga?: BookingState;
  cancellation?: CancellationResult;
}

/** Waits for every booking saga, and the cancellation workflow of each booking cancelled after confirmation, to finish. */
async function settleWorkflows(
  stack: InvariantStack,
  bookings: IBooking[],
  submissions: readonly Submission[],
  violate: Violate,
  timeoutMs = 120_000,
): Promise<Map<string, Finished>> {
  const deadline = Date.now() + timeoutMs;
  const resultOf = async <T>(workflowId: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      // Past the shared deadline a saga that finished long ago still gets the moment its answer takes.
      timer = setTimeout(
        () => reject(new Error(`${workflowId} had not finished ${timeoutMs / 1000}s after the drain`)),
        Math.max(deadline - Date.now(), 5_000),
      );
    });
    try {
      return (await Promise.race([stack.temporal.workflow.getHandle(workflowId).result(), late])) as T;
    } finally {
      clearTimeout(timer);
    }
  };
  const cancelled = new Set(submissions.filter((s) => s.cancel).map((s) => s.bookingId));
  const finished = new Map<string, Finished>();
  await inBatches(bookings, 25, async (b) => {
    const done: Finished = {};
    finished.set(b.id, done);
    try {
      done.saga = await resultOf<BookingState>(b.workflowId);
    } catch (error) {
      violate('every saga finished, with the status Postgres shows', `${b.id}: ${(error as Error).message}`);
    }
    if (!cancelled.has(b.id)) return;
    try {
      done.cancellation = await resultOf<CancellationResult>(`cancel-${b.id}`);
    } catch (error) {
      // Cancelled before confirmation (the saga's own undo) or refused: no cancellation workflow.
      if (!(error instanceof WorkflowNotFoundError)) violate('every saga finished, with the status Postgres shows', `cancel-${b.id}: ${(error as Error).message}`);
    }
  });
  for (const type of ['bookingWorkflow', 'cancellationWorkflow']) {
    const { count } = await stack.temporal.workflow.count(`ExecutionStatus = "Running" AND WorkflowType = "${type}"`);
    if (count > 0) violate('every saga finished, with the status Postgres shows', `${count} ${type} executions still running`);
  }
  return finished;
}

/** Temporal: each saga ended in the state Postgres shows, unless a cancellation after confirmation moved it on since. */
function sagasAgree(bookings: IBooking[], finished: Map<string, Finished>, terminated: ReadonlySet<string>, violate: Violate): Case[] {
  return bookings.map((b) => {
    // A terminated saga has no result; its booking is judged by what it left (checkTerminated).
    if (terminated.has(b.workflowId)) return { booking: b, paid: b.status === 'CONFIRMED', terminated: true };
    const { saga, cancellation } = finished.get(b.id) ?? {};
    const afterConfirmation = cancellation?.status === 'CANCELLED' || cancellation?.status === 'REFUNDED';
    const expected = afterConfirmation ? 'CONFIRMED' : b.status;
    if (saga && saga.status !== expected) violate('every saga finished, with the status Postgres shows', `${b.id}: saga ${saga.status}, Postgres ${b.status}`);
    if (afterConfirmation && b.status !== cancellation.status) {
      violate('every saga finished, with the status Postgres shows', `${b.id}: cancellation ${cancellation.status}, Postgres ${b.status}`);
    }
    return { booking: b, cancellation: afterConfirmation ? cancellation : undefined, paid: b.status === 'CONFIRMED' || afterConfirmation };
  });
}

type Holds = Awaited<ReturnType<Probes['holds']>>;

/** The provider's holds, found by the saga's references, against the booking items in Postgres. */
function checkHolds(holds: Holds, cases: Case[], violate: Violate) {
  const byReference = new Map(holds.map((h) => [h.reference, h]));
  const byWorkflowId = new Map(cases.map((c) => [c.booking.workflowId, c.booking]));
  const terminatedIds = new Set(cases.filter((c) => c.terminated).map((c) => c.booking.id));
  for (const hold of holds) {
    const booking = byWorkflowId.get(hold.reference.split(':hold:')[0]!);
    if (!booking) {
      violate('no hold left active without a CONFIRMED booking', `hold ${hold.hold_id} (${hold.state}) belongs to no booking`);
    } else if (hold.state === 'CONFIRMED' && booking.status !== 'CONFIRMED' && terminatedIds.has(booking.id)) {
      // A ticket its terminated saga issued: paid for or an open case (checkTerminated), not a lost seat.
    } else if ((hold.state === 'HELD' || hold.state === 'CONFIRMED') && booking.status !== 'CONFIRMED') {
      violate('no hold left active without a CONFIRMED booking', `hold ${hold.hold_id} is ${hold.state}, booking ${booking.id} ${booking.status}`);
    } else if (hold.state === 'HELD') {
      violate('no hold left active without a CONFIRMED booking', `hold ${hold.hold_id} of confirmed booking ${booking.id} was never ticketed`);
    }
  }
  for (const { booking: b, cancellation, paid, terminated } of cases) {
    // Postgres stopped where the terminated saga did; the provider's side is checked above.
    if (terminated) continue;
    for (const item of b.items) {
      const hold = byReference.get(`${b.workflowId}:hold:${item.offerId}`);
      const seen = `provider ${hold?.hold_id}/${hold?.state}/${hold?.confirmation_code}, Postgres ${item.holdId}/${item.state}/${item.confirmationCode}`;
      if (paid) {
        // Ticketed, and cancelled at the provider if the traveller cancelled afterwards.
        const state = cancellation ? 'CANCELLED' : 'CONFIRMED';
        if (hold?.state !== state || item.state !== state || hold.hold_id !== item.holdId || hold.confirmation_code !== item.confirmationCode) {
          violate('provider holds agree with Postgres', `${b.id} ${b.status}: ${seen}`);
        }
      } else {
        // Never confirmed: the item is released, or cancelled if the provider had ticketed it before the undo.
        const expected = !hold ? ['PENDING', 'RELEASED'] : hold.state === 'CANCELLED' ? ['CANCELLED'] : ['RELEASED'];
        if (!expected.includes(item.state)) violate('provider holds agree with Postgres', `${b.id} ${b.status}: ${seen}`);
      }
    }
  }
}

/** PaymentIntents and refunds at the Stripe fake (found by the booking id in the metadata) against Postgres. */
async function checkPayments(probes: Probes, cases: Case[], stripeLogCapacity: number, violate: Violate) {
  const intents = await probes.paymentIntents();
  const refunds = await probes.refunds();
  const byId = new Map(cases.map((c) => [c.booking.id, c]));
  const intentsOf = new Map<string, typeof intents>();
  for (const intent of intents) {
    const found = byId.get(intent.metadata?.bookingId ?? '');
    if (!found) {
      violate('Stripe agrees with Postgres', `PaymentIntent ${intent.id} (${intent.status}) belongs to no booking`);
      continue;
    }
    intentsOf.set(found.booking.id, [...(intentsOf.get(found.booking.id) ?? []), intent]);
    if (intent.status === 'requires_capture' && !found.terminated) {
      violate('no authorization left open without a CONFIRMED booking', `${intent.id} of ${found.booking.status} booking ${found.booking.id}`);
    }
  }
  const intentById = new Map(intents.map((i) => [i.id, i]));
  const refundsOf = new Map<string, typeof refunds>();
  for (const refund of refunds) {
    const pi = typeof refund.payment_intent === 'string' ? refund.payment_intent : (refund.payment_intent?.id ?? '');
    refundsOf.set(pi, [...(refundsOf.get(pi) ?? []), refund]);
  }

  for (const { booking: b, cancellation, paid, terminated } of cases) {
    const mine = intentsOf.get(b.id) ?? [];
    const payments = b.payments.getItems();
    if (mine.length > 1) violate('at most one PaymentIntent per booking', `${b.id}: ${mine.map((i) => `${i.id}/${i.status}`).join(', ')}`);
    // What a terminated saga left is checked against the provider's tickets in checkTerminated.
    if (terminated) continue;
    for (const payment of payments) {
      const intent = intentById.get(payment.paymentIntentId);
      if (!intent || intent.status !== STRIPE_STATUS_OF[payment.status] || intent.amount !== payment.amountMinor) {
        violate('Stripe agrees with Postgres', `${b.id}: Postgres ${payment.paymentIntentId}/${payment.status}/${payment.amountMinor}, Stripe ${intent?.status}/${intent?.amount}`);
      }
    }
    for (const intent of mine) {
      // A declined attempt leaves a PaymentIntent that holds no money and needs no row.
      if (intent.status !== 'requires_payment_method' && !payments.some((p) => p.paymentIntentId === intent.id)) {
        violate('Stripe agrees with Postgres', `${b.id}: ${intent.id} is ${intent.status} at Stripe, unknown to Postgres`);
      }
    }
    const charged = mine.filter((i) => i.status === 'succeeded');
    const refunded = charged.flatMap((i) => refundsOf.get(i.id) ?? []);
    if (!paid) {
      if (charged.length > 0) violate('Stripe agrees with Postgres', `${b.id} is ${b.status} but Stripe captured ${charged.map((i) => i.id).join(', ')}`);
      continue;
    }
    if (charged.length !== 1 || charged[0]!.amount !== b.totalMinor) {
      violate('Stripe agrees with Postgres', `${b.id} ${b.status} for ${b.totalMinor}, Stripe charged ${charged.map((i) => i.amount).join('+') || 'nothing'}`);
    }
    const owed = cancellation ? b.items.getItems().reduce((sum, item) => sum + refundMinor(isFareRule(item.fareRule) ? item.fareRule : 'SAVER', item.priceMinor), 0) : 0;
    const back = refunded.reduce((sum, r) => sum + r.amount, 0);
    const recorded = payments.find((p) => p.paymentIntentId === charged[0]?.id);
    if (refunded.length > (owed > 0 ? 1 : 0) || back !== owed || (cancellation && cancellation.refundMinor !== owed) || (recorded?.refundedMinor ?? 0) !== owed) {
      violate(
        'an accepted cancellation is honoured and refunds once what the fare rule allows',
        `${b.id} ${b.status}: fare rule owes ${owed}, saga says ${cancellation?.refundMinor}, Stripe refunded ${refunded.map((r) => r.amount).join('+') || 0}, Postgres ${recorded?.refundedMinor}`,
      );
    }
  }

  // The fake's own log: a capture that took effect more than once is a double charge.
  const log = await probes.stripeRequests();
  if (log.length >= stripeLogCapacity) violate('no PaymentIntent captured twice', `the Stripe fake's request log is full (${log.length}); captures cannot be counted`);
  const captureRequests = log.filter((r) => r.method === 'POST' && /^\/v1\/payment_intents\/[^/]+\/capture$/.test(r.path));
  const captures = countBy(captureRequests.filter((r) => r.status === 200 && !r.replayed).map((r) => r.path));
  for (const [path, count] of Object.entries(captures)) {
    if (count > 1) violate('no PaymentIntent captured twice', `${path.split('/')[3]} captured ${count} times`);
  }
  // The fake refuses a second capture itself, as Stripe does: a second capture *asked for* (under a key
  // other than the first's, so not a retry) is the saga's own double charge, whatever the answer.
  const keysOf = new Map<string, Set<string>>();
  for (const r of captureRequests) keysOf.set(r.path, (keysOf.get(r.path) ?? new Set()).add(r.idempotencyKey ?? '(none)'));
  for (const [path, keys] of keysOf) {
    if (keys.size > 1) violate('no PaymentIntent captured twice', `${path.split('/')[3]} asked to capture under ${keys.size} keys`);
  }
}

/** What each traveller was told against what became of their booking. */
function checkTravellers(submissions: readonly Submission[], byId: Map<string, IBooking>, violate: Violate) {
  for (const s of submissions) {
    const b = s.bookingId ? byId.get(s.bookingId) : undefined;
    if (!b) continue;
    if (s.order.card === 'pm_card_visa_chargeDeclined' && b.status === 'CONFIRMED') {
      violate('a declined card never confirms, a good one is never declined', `${b.id} confirmed with a declined card`);
    }
    if (s.order.card === 'pm_card_visa' && b.failureCode === 'PAYMENT_DECLINED') {
      violate('a declined card never confirms, a good one is never declined', `${b.id} declined with a good card`);
    }
    if ((s.order.card === 'pm_unknown' || s.order.challenge === 'abandon') && (b.status === 'CONFIRMED' || b.status === 'REFUNDED')) {
      violate('an unknown payment method or an abandoned 3-D Secure challenge never confirms', `${b.id} (${s.order.card}) is ${b.status}`);
    }
    if (s.challenge === 'completed' && b.status === 'EXPIRED') {
      violate('a 3-D Secure challenge the traveller completed is not left to expire', `${b.id} EXPIRED after its challenge was completed`);
    }
    if (s.order.card === 'pm_unknown' && b.failureCode === 'PAYMENT_DECLINED') {
      violate('an unknown payment method or an abandoned 3-D Secure challenge never confirms', `${b.id}: an unknown payment method was taken for a declined card`);
    }
    if (!s.cancel) continue;
    const honoured = b.status === 'CANCELLED' || b.status === 'REFUNDED';
    // A step's failure the saga had not yet read when the cancel arrived ends the booking first: it
    // fails instead, undone all the same (what it held and charged is checked above). Never confirmed.
    const endedUnconfirmed = honoured || b.status === 'FAILED' || b.status === 'EXPIRED';
    // 202: cancelled before confirmation, or a cancellation started after it; 409: too late, the saga went on.
    const fine = s.cancel.status === 202 ? endedUnconfirmed : s.cancel.status === 409 ? !honoured : false;
    if (!fine) {
      violate(
        'an accepted cancellation is honoured and refunds once what the fare rule allows',
        `${b.id} (${b.workflowId}): cancel answered ${s.cancel.status}, booking ${b.status}; tries: ${s.cancel.answers.join(' | ')}`,
      );
    }
  }
}

/**
 * Each booking whose saga an operator terminated, after the reconciler's pass: a SAGA_TERMINATED
 * case is open for it; no hold of it is still HELD and no authorization of it still open unless
 * a ticket was issued (then it pays for that ticket); a ticket without a capture, or a capture
 * without a ticket, has its own open case. Money is never taken twice nor kept without a ticket.
 */
async function checkTerminated(stack: InvariantStack, bookings: IBooking[], violate: Violate) {
  if (bookings.length === 0) return;
  const invariant = 'every terminated saga is an open case, and left no hold or authorization open';
  const open = await stack.orm.em.fork().find(ReconciliationCase, { booking: { $in: bookings.map((b) => b.id) }, resolvedAt: null });
  const kindsOf = new Map<string, Set<string>>();
  for (const c of open) kindsOf.set(c.booking.id, (kindsOf.get(c.booking.id) ?? new Set()).add(c.kind));
  const holds = await probesOf(stack).holds();
  for (const b of bookings) {
    const kinds = kindsOf.get(b.id) ?? new Set<string>();
    if (!kinds.has('SAGA_TERMINATED')) violate(invariant, `${b.id} (${b.status}): no open SAGA_TERMINATED case`);
    const mine = holds.filter((h) => h.reference.startsWith(`${b.workflowId}:hold:`));
    for (const hold of mine.filter((h) => h.state === 'HELD')) violate(invariant, `${b.id}: hold ${hold.hold_id} still HELD after the reconciler`);
    const tickets = mine.filter((h) => h.state === 'CONFIRMED');
    const intents = await Promise.all(b.payments.getItems().map((p) => stack.stripe.paymentIntents.retrieve(p.paymentIntentId)));
    const authorized = intents.filter((i) => i.status === 'requires_capture');
    const captured = intents.filter((i) => i.status === 'succeeded');
    if (captured.length > 1) violate(invariant, `${b.id}: ${captured.length} PaymentIntents captured`);
    if (tickets.length === 0 && authorized.length > 0) violate(invariant, `${b.id}: authorization ${authorized[0]!.id} open without a ticket`);
    if (tickets.length > 0 && captured.length === 0 && !kinds.has('TICKET_WITHOUT_CAPTURE')) {
      violate(invariant, `${b.id}: ${tickets.length} ticket(s) without a capture and no TICKET_WITHOUT_CAPTURE case`);
    }
    if (tickets.length === 0 && captured.length > 0 && !kinds.has('CAPTURE_WITHOUT_TICKET')) {
      violate(invariant, `${b.id}: captured without a ticket and no CAPTURE_WITHOUT_TICKET case`);
    }
  }
}

/**
 * The reconciler's cases after its pass: a booking whose saga finished has none open (its saga left
 * everything agreeing), so every open case belongs to a terminated saga. Answers the counts by kind.
 */
async function checkCases(stack: InvariantStack, bookings: IBooking[], terminated: ReadonlySet<string>, violate: Violate) {
  const open = await stack.orm.em.fork().find(ReconciliationCase, { booking: { $in: bookings.map((b) => b.id) }, resolvedAt: null });
  const workflowOf = new Map(bookings.map((b) => [b.id, b.workflowId]));
  for (const c of open) {
    if (!terminated.has(workflowOf.get(c.booking.id) ?? '')) {
      violate('the reconciler finds nothing wrong with a booking whose saga finished', `${c.booking.id}: open ${c.kind} ${JSON.stringify(c.evidence)}`);
    }
  }
  return countBy(open.map((c) => c.kind));
}

/**
 * A workflow cancellation (the Web UI's or the CLI's) before the saga started issuing tickets undoes
 * the booking; one after it must not: the saga finishes confirming (or fails on its own), never CANCELLED.
 */
async function checkOperatorCancels(stack: InvariantStack, bookings: IBooking[], violate: Violate) {
  const invariant = 'a saga cancelled by an operator undoes only before the point of no return';
  for (const b of bookings) {
    const events = (await stack.temporal.workflow.getHandle(b.workflowId).fetchHistory()).events ?? [];
    const requested = events.find((e) => e.workflowExecutionCancelRequestedEventAttributes);
    const ticketing = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'confirmHold');
    if (!requested) {
      violate(invariant, `${b.id}: no cancellation request in its history`);
      continue;
    }
    const afterTicketing = ticketing !== undefined && Number(ticketing.eventId) < Number(requested.eventId);
    if (afterTicketing && b.status === 'CANCELLED') violate(invariant, `${b.id}: cancelled and undone after confirmHold was scheduled`);
    if (!afterTicketing && (b.status === 'CONFIRMED' || b.status === 'REFUNDED')) {
      violate(invariant, `${b.id}: ${b.status} though cancelled before any ticket was asked for`);
    }
  }
}
