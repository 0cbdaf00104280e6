import { describe, expect, it } from 'vitest';
import { disagreements, sagaReleased, type BookingViews, type ChargeView, type HoldView } from './reconciliation.js';

const held = (offerId: string, state: NonNullable<HoldView['hold']>['state']): HoldView => ({ offerId, provider: 'sandbox', hold: { holdId: `h-${offerId}`, state } });
const charge = (status: string, capturedMinor = 0, refundedMinor = 0): ChargeView => ({ paymentIntentId: 'pi_1', status, capturedMinor, refundedMinor });

function views(partial: Partial<Omit<BookingViews, 'record'>> & { status?: BookingViews['record']['status'] }): BookingViews {
  return {
    record: { status: partial.status ?? 'FAILED', failureCode: null, items: [], payments: [] },
    holds: partial.holds ?? [],
    charges: partial.charges ?? [],
    saga: partial.saga ?? { execution: 'COMPLETED' },
  };
}
const kinds = (v: BookingViews) => disagreements(v).map((d) => d.kind).sort();

describe('disagreements between provider, Stripe, Postgres and workflow', () => {
  it('a confirmed booking with its ticket and capture agrees', () => {
    expect(kinds(views({ status: 'CONFIRMED', holds: [held('a', 'CONFIRMED')], charges: [charge('succeeded', 5000)] }))).toEqual([]);
  });

  it('a failed booking whose hold was released and payment voided agrees', () => {
    expect(kinds(views({ holds: [held('a', 'RELEASED'), { offerId: 'b', provider: 'sandbox' }], charges: [charge('canceled')] }))).toEqual([]);
  });

  it('a terminated saga that left a hold and an authorization: both repaired, the termination for an operator', () => {
    const found = disagreements(views({ status: 'AWAITING_PAYMENT', saga: { execution: 'TERMINATED' }, holds: [held('a', 'HELD')], charges: [charge('requires_capture')] }));
    expect(found.map((d) => d.kind).sort()).toEqual(['ORPHAN_AUTHORIZATION', 'ORPHAN_HOLD', 'SAGA_TERMINATED']);
    expect(found.find((d) => d.kind === 'ORPHAN_HOLD')?.repairs).toEqual([{ action: 'release-hold', offerId: 'a', provider: 'sandbox', holdId: 'h-a' }]);
    expect(found.find((d) => d.kind === 'ORPHAN_AUTHORIZATION')?.repairs).toEqual([{ action: 'void-authorization', paymentIntentId: 'pi_1' }]);
    expect(found.find((d) => d.kind === 'SAGA_TERMINATED')?.repairs).toBeUndefined();
  });

  it('a running saga owns its hold and authorization: only NEEDS_ATTENTION is reported', () => {
    const running = { status: 'HELD' as const, holds: [held('a', 'HELD')], charges: [charge('requires_capture')] };
    expect(kinds(views({ ...running, saga: { execution: 'RUNNING', status: 'HELD' } }))).toEqual([]);
    expect(kinds(views({ ...running, saga: { execution: 'RUNNING', status: 'NEEDS_ATTENTION' } }))).toEqual(['SAGA_NEEDS_ATTENTION']);
  });

  it('a saga that may still start or go on owns the booking: not found for a PENDING or STARTED booking, or in an unknown (paused) state', () => {
    // POST /bookings committed the row but its saga's start failed; the client's retry may start it any moment.
    const left = { holds: [held('a', 'HELD')], charges: [charge('requires_capture')] };
    for (const status of ['PENDING', 'STARTED'] as const) {
      expect(disagreements(views({ ...left, status, saga: { execution: 'NOT_FOUND' } }))).toEqual([]);
    }
    expect(disagreements(views({ ...left, status: 'HELD', saga: { execution: 'UNKNOWN' } }))).toEqual([]);
    expect(kinds(views({ ...left, status: 'HELD', saga: { execution: 'UNKNOWN', status: 'NEEDS_ATTENTION' } }))).toEqual(['SAGA_NEEDS_ATTENTION']);
    // A newer run of the saga goes on.
    expect(disagreements(views({ ...left, status: 'HELD', saga: { execution: 'CONTINUED_AS_NEW' } }))).toEqual([]);
  });

  it('repairs once the saga is closed, or gone after it ran (its history purged)', () => {
    const left = { holds: [held('a', 'HELD')] };
    for (const execution of ['COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT'] as const) {
      expect(disagreements(views({ ...left, status: 'HELD', saga: { execution } })).flatMap((d) => d.repairs ?? []), execution).toHaveLength(1);
    }
    expect(disagreements(views({ ...left, status: 'HELD', saga: { execution: 'NOT_FOUND' } })).flatMap((d) => d.repairs ?? [])).toHaveLength(1);
    expect(sagaReleased('NOT_FOUND', 'PENDING')).toBe(false);
    expect(sagaReleased('NOT_FOUND', 'FAILED')).toBe(true);
    expect(sagaReleased('UNKNOWN', 'FAILED')).toBe(false);
    expect(sagaReleased('RUNNING', 'FAILED')).toBe(false);
    expect(sagaReleased('TERMINATED', 'AWAITING_PAYMENT')).toBe(true);
  });

  it('a ticket without a capture is left to an operator, and its authorization is not voided', () => {
    const found = disagreements(views({ status: 'NEEDS_ATTENTION', saga: { execution: 'TERMINATED' }, holds: [held('a', 'CONFIRMED')], charges: [charge('requires_capture')] }));
    expect(found.map((d) => d.kind).sort()).toEqual(['SAGA_TERMINATED', 'TICKET_WITHOUT_CAPTURE']);
    expect(found.flatMap((d) => d.repairs ?? [])).toEqual([]);
  });

  it('a capture without a ticket is an operator refund, unless a customer cancellation kept it', () => {
    const failed = disagreements(views({ holds: [held('a', 'RELEASED')], charges: [charge('succeeded', 5000)] }));
    expect(failed.map((d) => d.kind)).toEqual(['CAPTURE_WITHOUT_TICKET']);
    expect(failed[0]?.repairs).toBeUndefined();
    expect(failed[0]?.evidence.capturedMinor).toBe(5000);
    expect(kinds(views({ holds: [held('a', 'RELEASED')], charges: [charge('succeeded', 5000, 5000)] }))).toEqual([]);
    expect(kinds(views({ status: 'CANCELLED', holds: [held('a', 'CANCELLED')], charges: [charge('succeeded', 5000)] }))).toEqual([]);
  });

  it('a confirmed booking keeps a hold it still holds (nothing to release)', () => {
    expect(kinds(views({ status: 'CONFIRMED', holds: [held('a', 'CONFIRMED'), held('b', 'HELD')], charges: [charge('succeeded', 5000)] }))).toEqual([]);
  });

  it('two orphan holds make one case with two repairs', () => {
    const found = disagreements(views({ holds: [held('a', 'HELD'), held('b', 'HELD')] }));
    expect(found).toHaveLength(1);
    expect(found[0]?.repairs).toHaveLength(2);
    expect(found[0]?.evidence.offerIds).toBe('a,b');
  });

  it('an abandoned saga\'s unfinished PaymentIntent is cancelled, so its challenge cannot be completed afterwards', () => {
    for (const status of ['requires_action', 'requires_confirmation', 'requires_payment_method']) {
      const found = disagreements(views({ status: 'AWAITING_PAYMENT', saga: { execution: 'TERMINATED' }, charges: [charge(status)] }));
      expect(found.map((d) => d.kind).sort(), status).toEqual(['ORPHAN_AUTHORIZATION', 'SAGA_TERMINATED']);
      expect(found.find((d) => d.kind === 'ORPHAN_AUTHORIZATION')?.repairs, status).toEqual([{ action: 'cancel-payment', paymentIntentId: 'pi_1' }]);
    }
    // A saga that ended by itself settled its payment (a declined card's intent waits for nothing).
    expect(kinds(views({ saga: { execution: 'COMPLETED' }, charges: [charge('requires_payment_method')] }))).toEqual([]);
    // With a ticket out, or a confirmed booking, it is an operator's; what is final is left as it is.
    const ticketed = disagreements(views({ status: 'AWAITING_PAYMENT', saga: { execution: 'TERMINATED' }, holds: [held('a', 'CONFIRMED')], charges: [charge('requires_action')] }));
    expect(ticketed.flatMap((d) => d.repairs ?? [])).toEqual([]);
    expect(disagreements(views({ status: 'CONFIRMED', saga: { execution: 'TERMINATED' }, charges: [charge('requires_action')] })).flatMap((d) => d.repairs ?? [])).toEqual([]);
    for (const status of ['processing', 'canceled']) {
      expect(kinds(views({ status: 'AWAITING_PAYMENT', saga: { execution: 'TERMINATED' }, charges: [charge(status)] })), status).toEqual(['SAGA_TERMINATED']);
    }
  });
});
