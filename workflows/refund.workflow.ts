import { proxyActivities, setWorkflowOptions, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { FORWARD_STEP, RECORD_STEP } from './activity-options.js';
import { versioning } from './versioning.js';

export interface RefundInput {
  bookingId: string;
  paymentIntentId: string;
  amountMinor: number;
}

export interface RefundResult {
  /** Stripe's refunded total for the payment after this refund. */
  refundedMinor: number;
  status: 'REFUNDED' | 'PARTIALLY_REFUNDED';
}

// A refund that keeps failing ends the run (the operator sees it failed and asks again: the key
// makes the next run recognise a refund Stripe did make), rather than retrying for ever.
const step = proxyActivities<Activities>(FORWARD_STEP);
const record = proxyActivities<Activities>(RECORD_STEP);

// Worker Versioning: a refund takes seconds and finishes on the build that started it (README "Deploying workflow changes").
setWorkflowOptions(versioning('PINNED'), refundWorkflow);

/**
 * An operator's refund of a captured booking. Its workflow id is `refund-<booking>-<Idempotency-Key>`
 * and is the refund's key at Stripe: the same request never refunds twice.
 */
export async function refundWorkflow(input: RefundInput): Promise<RefundResult> {
  const { workflowId } = workflowInfo();
  const { refundedMinor, fully } = await step.refundByOperator({ ...input, refundId: workflowId });
  // Only a full refund ends the booking; a confirmed booking partly refunded is still confirmed.
  if (fully) await record.setBookingStatus({ bookingId: input.bookingId, status: 'REFUNDED' });
  return { refundedMinor, status: fully ? 'REFUNDED' : 'PARTIALLY_REFUNDED' };
}
