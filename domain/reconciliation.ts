import type { BookingStatus } from './booking-status.js';

/** What can disagree about one booking (docs/api.md "Operators"). */
export const CASE_KINDS = [
  'CAPTURE_WITHOUT_TICKET',
  'TICKET_WITHOUT_CAPTURE',
  'ORPHAN_AUTHORIZATION',
  'ORPHAN_HOLD',
  'SAGA_NEEDS_ATTENTION',
  'SAGA_TERMINATED',
] as const;
export type CaseKind = (typeof CASE_KINDS)[number];

/**
 * A terminated saga stays terminated: its case closes only by an operator's resolution, and is not
 * opened again once resolved. Every other kind closes by itself when its disagreement is gone.
 */
export const OPERATOR_CLOSES: ReadonlySet<CaseKind> = new Set(['SAGA_TERMINATED']);

/** What the workflow says: its execution's state, and the saga's own status while it runs. */
export interface SagaView {
  execution: 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TERMINATED' | 'TIMED_OUT' | 'CONTINUED_AS_NEW' | 'NOT_FOUND' | 'UNKNOWN';
  status?: string;
}

/** What Postgres says. */
export interface RecordView {
  status: BookingStatus;
  failureCode: string | null;
  items: ReadonlyArray<{ offerId: string; provider: string; state: string }>;
  payments: ReadonlyArray<{ paymentIntentId: string; status: string; amountMinor: number; currency: string }>;
}

/** What a provider says about one item's hold (absent: it knows no hold of that reference). */
export interface HoldView {
  offerId: string;
  provider: string;
  hold?: { holdId: string; state: 'HELD' | 'CONFIRMED' | 'RELEASED' | 'CANCELLED' | 'EXPIRED' };
}

/** What Stripe says about one PaymentIntent. */
export interface ChargeView {
  paymentIntentId: string;
  status: string;
  capturedMinor: number;
  refundedMinor: number;
}

export interface BookingViews {
  record: RecordView;
  holds: readonly HoldView[];
  charges: readonly ChargeView[];
  saga: SagaView;
}

/** Safe to do without an operator: nothing is charged, refunded or ticketed by it. */
export type Repair =
  | { action: 'release-hold'; offerId: string; provider: string; holdId: string }
  | { action: 'void-authorization'; paymentIntentId: string }
  /** A PaymentIntent still waiting for the customer (a challenge, a confirmation, a new card). */
  | { action: 'cancel-payment'; paymentIntentId: string };

export type Evidence = Record<string, string | number | boolean | null>;

export interface Disagreement {
  kind: CaseKind;
  evidence: Evidence;
  /** What the reconciler does about it; none: an operator decides (money moves, or the saga is theirs). */
  repairs?: Repair[];
}

// A saga that ended without finishing: nothing will undo what it left.
const ABANDONED = new Set<SagaView['execution']>(['TERMINATED', 'FAILED', 'TIMED_OUT']);
// A PaymentIntent neither authorized nor final: the customer can still complete it (Stripe's statuses).
const UNFINISHED_PAYMENT = new Set(['requires_action', 'requires_confirmation', 'requires_payment_method']);
// Closed for good (a workflow id is never run twice). CONTINUED_AS_NEW is not: a newer run goes on.
const CLOSED = new Set<SagaView['execution']>(['COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT']);

/**
 * Whether the saga has let go of the booking, so that what it left is the reconciler's to repair:
 * its execution is closed, or not found once it had claimed its row (its history purged). Not found
 * for a PENDING or STARTED booking may be a saga about to start (the client retries POST /bookings;
 * a booking nobody retries is the stalled-work sweep's), and UNKNOWN (paused) may go on.
 */
export function sagaReleased(execution: SagaView['execution'], bookingStatus: BookingStatus): boolean {
  if (execution === 'NOT_FOUND') return bookingStatus !== 'PENDING' && bookingStatus !== 'STARTED';
  return CLOSED.has(execution);
}

/**
 * Whether a customer's cancellation still works on the booking (running, or paused): between
 * cancelling its tickets and refunding, a capture without a ticket is its to settle, not an operator's.
 */
export function cancellationInFlight(execution: SagaView['execution']): boolean {
  return execution === 'RUNNING' || execution === 'UNKNOWN';
}

/**
 * Compares the four views of one booking. Until its saga lets go (sagaReleased), the saga owns its
 * holds and payment (it may be between two steps), so only a NEEDS_ATTENTION is reported then.
 */
export function disagreements(views: BookingViews): Disagreement[] {
  const { record, holds, charges, saga } = views;
  const found: Disagreement[] = [];
  const bookingStatus = record.status;

  if (!sagaReleased(saga.execution, bookingStatus)) {
    const status = saga.status ?? bookingStatus;
    if (status === 'NEEDS_ATTENTION') {
      found.push({ kind: 'SAGA_NEEDS_ATTENTION', evidence: { bookingStatus, sagaStatus: status, failureCode: record.failureCode } });
    }
    return found;
  }
  if (ABANDONED.has(saga.execution)) {
    found.push({ kind: 'SAGA_TERMINATED', evidence: { execution: saga.execution, bookingStatus } });
  }

  const tickets = holds.filter((h) => h.hold?.state === 'CONFIRMED');
  const captured = charges.filter((c) => c.capturedMinor > 0);
  const netCaptured = captured.reduce((sum, c) => sum + c.capturedMinor - c.refundedMinor, 0);
  const confirmed = bookingStatus === 'CONFIRMED';

  if (tickets.length > 0 && captured.length === 0) {
    found.push({
      kind: 'TICKET_WITHOUT_CAPTURE',
      evidence: { bookingStatus, tickets: tickets.length, paymentStatus: charges.map((c) => c.status).join(',') || null, operator: 'capture or cancel the tickets' },
    });
  }
  // A booking cancelled after confirmation keeps what its fare rule keeps: no ticket is right there.
  if (netCaptured > 0 && tickets.length === 0 && bookingStatus !== 'CANCELLED' && bookingStatus !== 'REFUNDED') {
    found.push({
      kind: 'CAPTURE_WITHOUT_TICKET',
      evidence: { bookingStatus, capturedMinor: netCaptured, paymentIntents: captured.length, operator: 'refund (money moves: an operator decides)' },
    });
  }
  if (!confirmed) {
    const orphanHolds = holds.flatMap(({ offerId, provider, hold }) =>
      hold?.state === 'HELD' ? [{ action: 'release-hold' as const, offerId, provider, holdId: hold.holdId }] : [],
    );
    if (orphanHolds.length > 0) {
      found.push({
        kind: 'ORPHAN_HOLD',
        evidence: { bookingStatus, execution: saga.execution, offerIds: orphanHolds.map((r) => r.offerId).join(',') },
        repairs: orphanHolds,
      });
    }
    // With a ticket out, the authorization pays for it: capturing or cancelling is an operator's call.
    // One an abandoned saga left waiting for the customer would otherwise still take a late challenge
    // (a saga that ended by itself settled its own: a declined card's waits for nothing).
    const unfinished = (c: ChargeView) => ABANDONED.has(saga.execution) && UNFINISHED_PAYMENT.has(c.status) && c.capturedMinor === 0;
    const authorizations = tickets.length > 0 ? [] : charges.filter((c) => c.status === 'requires_capture' || unfinished(c));
    if (authorizations.length > 0) {
      found.push({
        kind: 'ORPHAN_AUTHORIZATION',
        evidence: {
          bookingStatus,
          execution: saga.execution,
          paymentIntentIds: authorizations.map((c) => c.paymentIntentId).join(','),
          paymentStatuses: authorizations.map((c) => c.status).join(','),
        },
        repairs: authorizations.map((c) => ({ action: c.status === 'requires_capture' ? ('void-authorization' as const) : ('cancel-payment' as const), paymentIntentId: c.paymentIntentId })),
      });
    }
  }
  return found;
}
