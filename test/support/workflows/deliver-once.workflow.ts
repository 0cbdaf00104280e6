import { proxyActivities } from '@temporalio/workflow';
import type { createNotificationActivities } from '../../../activities/notification.activities.js';

// The notification workflow's activity tried once: its failure then reaches the history and fails the workflow.
const { deliverNotification } = proxyActivities<ReturnType<typeof createNotificationActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
});

/** Delivers one outbox message, or fails with the activity's failure as its cause. */
export async function deliverOnceWorkflow(outboxId: string): Promise<string> {
  return deliverNotification(outboxId);
}
