/**
 * The booking saga's workflow id: one per user and Idempotency-Key, so a retried POST /bookings
 * finds the saga it started (README, "A booking by hand"). Stripe and provider keys derive from it.
 */
export function bookingWorkflowId(userId: string, idempotencyKey: string): string {
  return `booking-${userId}-${idempotencyKey}`;
}

/** A confirmed booking's cancellation workflow: one at a time per booking (api/bookings.service.ts). */
export function cancellationWorkflowId(bookingId: string): string {
  return `cancel-${bookingId}`;
}
