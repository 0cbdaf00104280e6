import { proxyActivities, setWorkflowOptions } from '@temporalio/workflow';
import type { createAuditMaintenanceActivities } from '../activities/audit-maintenance.activities.js';
import { RECORD_STEP } from './activity-options.js';
import { versioning } from './versioning.js';

const { takeAuditCheckpoint } = proxyActivities<ReturnType<typeof createAuditMaintenanceActivities>>({ ...RECORD_STEP, startToCloseTimeout: '1 minute' });

// Worker Versioning: each Schedule firing is a new run of seconds, started on the build current then.
setWorkflowOptions(versioning('PINNED'), auditCheckpointWorkflow);

/** Signs the audit chain's current end (a Schedule runs it every 15 minutes). */
export async function auditCheckpointWorkflow(): Promise<string | null> {
  return takeAuditCheckpoint();
}
