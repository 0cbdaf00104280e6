import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { json, travellerOf } from '../support/booking-client.js';
import { threeDSecureCard } from '../support/three-d-secure.js';
import { eventually } from '../support/eventually.js';
import { Booking } from '../../infra/db/entities.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { COMPENSATION_ALERT_ATTEMPTS: '2' } });
});
afterAll(async () => {
  await stack?.stop();
});

const SLOW_PROVIDER_MS = 6_000;

describe('cancelling over HTTP', () => {
  it('answers 202 once the saga accepts the cancel, without waiting for the compensation (issue 12)', async () => {
    const traveller = await travellerOf(stack);
    const body = await traveller.bookingBody({ paymentMethodId: await threeDSecureCard(stack.stripe) });
    const { bookingId } = await json(await traveller.book(body));
    await traveller.reaches(bookingId, 'AWAITING_PAYMENT');

    // Releasing the hold now takes the provider seconds: the compensation is slow.
    await stack.setFaults({ latencyMs: SLOW_PROVIDER_MS });
    try {
      const request = stack.app.request(`/api/v1/bookings/${bookingId}/cancel`, {
        method: 'POST',
        headers: { ...traveller.auth, 'idempotency-key': randomUUID() },
      });
      const answer = await Promise.race([request, new Promise<'still waiting'>((r) => setTimeout(() => r('still waiting'), SLOW_PROVIDER_MS / 2))]);
      expect(answer).not.toBe('still waiting');
      expect((answer as Response).status).toBe(202);
      expect(await json(answer as Response)).toMatchObject({ bookingId });
    } finally {
      await stack.setFaults({ latencyMs: 0 });
    }
    const cancelled = await traveller.reaches(bookingId, 'CANCELLED');
    expect(cancelled.items[0].state).toBe('RELEASED');
  });

  it('answers 409 when the saga refuses the cancel past the point of no return, and the booking confirms (chaos run, issue 12)', async () => {
    const traveller = await travellerOf(stack);
    // Every supplier call takes most of the worker's time-out: ticketing leaves a window in which the
    // saga is past the point of no return while Postgres still says HELD.
    await stack.setFaults({ latencyMs: 1_500 });
    try {
      const { bookingId } = await json(await traveller.book(await traveller.bookingBody()));
      const { workflowId } = (await stack.orm.em.fork().findOneOrFail(Booking, bookingId)) as { workflowId: string };
      const saga = stack.temporal.workflow.getHandle(workflowId);
      // Ticketing scheduled: the saga is past the point of no return (its history says so, whatever Postgres says).
      const ticketing = async () =>
        (await saga.fetchHistory()).events?.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'confirmHold');
      await eventually(ticketing, (scheduled) => scheduled === true, {
        what: 'the saga past the point of no return',
        intervalMs: 25,
      });
      const answer = await stack.app.request(`/api/v1/bookings/${bookingId}/cancel`, {
        method: 'POST',
        headers: { ...traveller.auth, 'idempotency-key': randomUUID() },
      });
      expect(answer.status).toBe(409);
      expect((await json(answer)).code).toBe('BOOKING_NOT_CANCELLABLE');
      expect((await traveller.settled(bookingId)).status).toBe('CONFIRMED');
    } finally {
      await stack.setFaults({ latencyMs: 0 });
    }
  });
});

describe('the cancellation of a confirmed booking', () => {
  it('flags NEEDS_ATTENTION while an undo keeps failing, and runs again after a failed run (issue 12)', async () => {
    const traveller = await travellerOf(stack);
    const { bookingId } = await json(await traveller.book(await traveller.bookingBody()));
    expect((await traveller.settled(bookingId)).status).toBe('CONFIRMED');
    const cancel = () =>
      stack.app.request(`/api/v1/bookings/${bookingId}/cancel`, { method: 'POST', headers: { ...traveller.auth, 'idempotency-key': randomUUID() } });

    // The provider refuses every cancellation: the booking says an operator is needed.
    await stack.setFaults({ failRelease: true });
    try {
      expect((await cancel()).status).toBe(202);
      const stuck = await traveller.reaches(bookingId, 'NEEDS_ATTENTION');
      expect(stuck.failure?.code).toBe('CANCELLATION_STUCK');
      // The operator gives up on this run (it fails), and the provider recovers.
      await stack.temporal.workflow.getHandle(`cancel-${bookingId}`).terminate('operator: provider outage');
    } finally {
      await stack.setFaults({ failRelease: false });
    }
    // Cancelling again runs the cancellation again.
    expect((await cancel()).status).toBe(202);
    const done = await eventually(
      async () => json(await traveller.get(bookingId)),
      (b) => b.status === 'CANCELLED' || b.status === 'REFUNDED',
      { what: 'the booking cancelled' },
    );
    expect(done.items[0].state).toBe('CANCELLED');
  });
});
