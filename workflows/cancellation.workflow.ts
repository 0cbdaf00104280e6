import { patched, proxyActivities, setWorkflowOptions, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { COMPENSATION_STEP, DEFAULT_COMPENSATION_ALERT_ATTEMPTS, firstCompensationTries, RECORD_STEP } from './activity-options.js';
import { versioning } from './versioning.js';

export interface CancellationResult {
  status: 'CANCELLED' | 'REFUNDED' | 'NOT_CANCELLABLE';
  refundMinor: number;
}

export interface CancellationInput {
  bookingId: string;
  /** Tries of a step before the booking is flagged NEEDS_ATTENTION; from config (tests make it small). */
  compensationAlertAttempts?: number;
}

/**
 * Changes to this released workflow, each behind patched() so histories recorded before it replay.
 * cancellation-needs-attention: a step that keeps failing flags the booking NEEDS_ATTENTION
 *   (CANCELLATION_STUCK) while it goes on retrying, as the booking saga's undos do.
 */
const PATCH = { needsAttention: 'cancellation-needs-attention' } as const;

// Cancelling is itself an undo: every step retries until it succeeds.
const step = proxyActivities<Activities>(COMPENSATION_STEP);
const record = proxyActivities<Activities>(RECORD_STEP);
const CANCELLATION_STUCK = { code: 'CANCELLATION_STUCK', message: 'Cancelling keeps failing; it is being retried.' };

// Worker Versioning: seconds of undo steps, finished on the build that started them (README "Deploying workflow changes").
setWorkflowOptions(versioning('PINNED'), cancellationWorkflow);

/**
 * Cancels a confirmed booking at every provider, then refunds what its fare rules allow. One per
 * booking at a time; a run that failed (terminated, timed out) may be started again.
 */
export async function cancellationWorkflow(input: CancellationInput): Promise<CancellationResult> {
  const cancellationId = workflowInfo().workflowId;
  const plan = await record.planCancellation({ bookingId: input.bookingId });
  // `cancellable` also admits the booking a failed run left NEEDS_ATTENTION; older plans lack it.
  if (!(plan.cancellable ?? plan.status === 'CONFIRMED')) return { status: 'NOT_CANCELLABLE', refundMinor: 0 };

  const flags = patched(PATCH.needsAttention);
  const first = proxyActivities<Activities>(firstCompensationTries(input.compensationAlertAttempts ?? DEFAULT_COMPENSATION_ALERT_ATTEMPTS));
  let flagged = false;
  async function persistently(run: (activities: Activities) => Promise<unknown>) {
    if (!flags) return run(step);
    try {
      return await run(first);
    } catch {
      if (!flagged) await record.setBookingStatus({ bookingId: input.bookingId, status: 'NEEDS_ATTENTION', failure: CANCELLATION_STUCK });
      flagged = true;
      return run(step);
    }
  }

  for (const item of plan.items) {
    await persistently((acts) => acts.cancelAtProvider({ bookingId: input.bookingId, bookingWorkflowId: plan.bookingWorkflowId, ...item }));
  }
  await record.setBookingStatus({ bookingId: input.bookingId, status: 'CANCELLED' });
  if (plan.refundMinor > 0 && plan.paymentIntentId) {
    const { paymentIntentId } = plan;
    await persistently((acts) => acts.refundPayment({ bookingId: input.bookingId, cancellationId, paymentIntentId, amountMinor: plan.refundMinor }));
    await record.setBookingStatus({ bookingId: input.bookingId, status: 'REFUNDED' });
    return { status: 'REFUNDED', refundMinor: plan.refundMinor };
  }
  return { status: 'CANCELLED', refundMinor: 0 };
}
