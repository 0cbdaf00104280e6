import { createBookingActivities, type BookingActivityDeps } from './booking.activities.js';
import { createCancellationActivities } from './cancellation.activities.js';
import { createRefundActivities } from './refund.activities.js';
import { createAuditMaintenanceActivities, type AuditMaintenanceDeps } from './audit-maintenance.activities.js';
import { createErasureActivities, type ErasureDeps } from './erasure.activities.js';
import { createNotificationActivities, type NotificationDeps } from './notification.activities.js';
import { createRetentionActivities, type RetentionDeps } from './retention.activities.js';
import { createStalledWorkActivities, type StalledWorkDeps } from './stalled-work.activities.js';
import { createReconciliationActivities, type ReconciliationDeps } from './reconciliation.activities.js';
import { withFailureTypes, type FailureLog } from './failures.js';

export type ActivityDeps = BookingActivityDeps & RetentionDeps & NotificationDeps & ErasureDeps & AuditMaintenanceDeps & StalledWorkDeps & ReconciliationDeps & { log: FailureLog };

/** Every activity the worker registers, each behind the one failure boundary (activities/failures.ts). */
export function createActivities(deps: ActivityDeps) {
  return withFailureTypes({
    ...createBookingActivities(deps),
    ...createCancellationActivities(deps),
    ...createRefundActivities(deps),
    ...createRetentionActivities(deps),
    ...createNotificationActivities(deps),
    ...createErasureActivities(deps),
    ...createAuditMaintenanceActivities(deps),
    ...createStalledWorkActivities(deps),
    ...createReconciliationActivities(deps),
  }, deps.log);
}
export type Activities = ReturnType<typeof createActivities>;
