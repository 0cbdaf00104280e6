import { proxyActivities, setWorkflowOptions } from '@temporalio/workflow';
import type { createNotificationActivities } from '../activities/notification.activities.js';
import { versioning } from './versioning.js';

// A mail server that is down for a while delays mail; it does not lose it.
const { deliverNotification } = proxyActivities<ReturnType<typeof createNotificationActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
  scheduleToCloseTimeout: '2 days',
});

// Worker Versioning: AUTO_UPGRADE, not pinned. While the mail server is down this run retries for up to two
// days, and pinned it would keep its build (workers and all) that long; one activity call has nothing a new
// build could replay differently. A change to this function goes behind patched() (README "Deploying workflow changes").
setWorkflowOptions(versioning('AUTO_UPGRADE'), notificationWorkflow);

/** Sends one outbox message (workflow id `notify-<outboxId>`, so a message is sent by one run). */
export async function notificationWorkflow(outboxId: string): Promise<string> {
  return deliverNotification(outboxId);
}
