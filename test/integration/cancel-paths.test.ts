import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { json, travellerOf } from '../support/booking-client.js';
import { threeDSecureCard } from '../support/three-d-secure.js';
import { eventually } from '../support/eventually.js';

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
