import { proxyActivities } from '@temporalio/workflow';
import type { createAuditMaintenanceActivities } from '../activities/audit-maintenance.activities.js';
import { RECORD_STEP } from './booking.constants.js';

const { takeAuditCheckpoint } = proxyActivities<ReturnType<typeof createAuditMaintenanceActivities>>({ ...RECORD_STEP, startToCloseTimeout: '1 minute' });

/** Signs the audit chain's current end (a Schedule runs it every 15 minutes). */
export async function auditCheckpointWorkflow(): Promise<string | null> {
  return takeAuditCheckpoint();
}
