import { proxyActivities, setWorkflowOptions } from '@temporalio/workflow';
import type { createStalledWorkActivities } from '../activities/stalled-work.activities.js';
import { RECORD_STEP } from './activity-options.js';
import { versioning } from './versioning.js';

const step = proxyActivities<ReturnType<typeof createStalledWorkActivities>>({ ...RECORD_STEP, startToCloseTimeout: '2 minutes' });

export interface StalledWorkPolicy {
  /** Undelivered mail this old, whose delivery was never started, is started again. */
  mailAfterMs: number;
  /** Mail older than this is left to retention: its links have expired. */
  mailGiveUpMs: number;
  /** A booking PENDING this long without a saga is failed (the client had this long to retry). */
  bookingAfterMs: number;
  batchSize: number;
}

export interface StalledWorkResult {
  mailStarted: number;
  bookingsFailed: number;
}

// Worker Versioning: each Schedule firing is a new run of seconds, started on the build current then.
setWorkflowOptions(versioning('PINNED'), stalledWorkSweepWorkflow);

/** Finishes or closes work whose workflow start was lost (a Temporal Schedule runs it every few minutes). */
export async function stalledWorkSweepWorkflow(policy: StalledWorkPolicy): Promise<StalledWorkResult> {
  const now = Date.now();
  const mail = await step.relayStalledMail({
    since: new Date(now - policy.mailGiveUpMs).toISOString(),
    before: new Date(now - policy.mailAfterMs).toISOString(),
    limit: policy.batchSize,
  });
  const bookings = await step.failUnstartedBookings({ before: new Date(now - policy.bookingAfterMs).toISOString(), limit: policy.batchSize });
  return { mailStarted: mail.started, bookingsFailed: bookings.failed };
}
