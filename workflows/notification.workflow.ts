import { proxyActivities } from '@temporalio/workflow';
import type { createNotificationActivities } from '../activities/notification.activities.js';

// A mail server that is down for a while delays mail; it does not lose it.
const { deliverNotification } = proxyActivities<ReturnType<typeof createNotificationActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
  scheduleToCloseTimeout: '2 days',
});

/** Sends one outbox message (workflow id `notify-<outboxId>`, so a message is sent by one run). */
export async function notificationWorkflow(outboxId: string): Promise<string> {
  return deliverNotification(outboxId);
}
