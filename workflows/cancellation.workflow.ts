import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { COMPENSATION_STEP, RECORD_STEP } from './booking.constants.js';

export interface CancellationResult {
  status: 'CANCELLED' | 'REFUNDED' | 'NOT_CANCELLABLE';
  refundMinor: number;
}

// Cancelling is itself an undo: every step retries until it succeeds.
const step = proxyActivities<Activities>(COMPENSATION_STEP);
const record = proxyActivities<Activities>(RECORD_STEP);

/** Cancels a confirmed booking at every provider, then refunds what its fare rules allow. Run once per booking. */
export async function cancellationWorkflow(input: { bookingId: string }): Promise<CancellationResult> {
  const cancellationId = workflowInfo().workflowId;
  const plan = await record.planCancellation({ bookingId: input.bookingId });
  if (plan.status !== 'CONFIRMED') return { status: 'NOT_CANCELLABLE', refundMinor: 0 };

  for (const item of plan.items) {
    await step.cancelAtProvider({ bookingId: input.bookingId, bookingWorkflowId: plan.bookingWorkflowId, ...item });
  }
  await record.setBookingStatus({ bookingId: input.bookingId, status: 'CANCELLED' });
  if (plan.refundMinor > 0 && plan.paymentIntentId) {
    await step.refundPayment({
      bookingId: input.bookingId,
      cancellationId,
      paymentIntentId: plan.paymentIntentId,
      amountMinor: plan.refundMinor,
    });
    await record.setBookingStatus({ bookingId: input.bookingId, status: 'REFUNDED' });
    return { status: 'REFUNDED', refundMinor: plan.refundMinor };
  }
  return { status: 'CANCELLED', refundMinor: 0 };
}
