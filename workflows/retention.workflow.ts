import { continueAsNew, patched, proxyActivities, setWorkflowOptions } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { RetentionPolicy } from '../activities/retention.activities.js';
import { RECORD_STEP } from './activity-options.js';
import { versioning } from './versioning.js';

const step = proxyActivities<Activities>({ ...RECORD_STEP, startToCloseTimeout: '2 minutes' });
const DAY_MS = 86_400_000;
// Keeps one run's history small: a long backlog continues as a new run.
const BATCHES_PER_RUN = 50;

export interface RetentionResult {
  bookingsAnonymized: number;
  webhookEventsDeleted: number;
  authRecordsDeleted?: number;
  auditRowsTrimmed?: number;
}
const DEFAULT_AUTH_RECORD_DAYS = 30;
const DEFAULT_AUDIT_MONTHS = 18;
const MONTH_MS = 31 * DAY_MS;

// Worker Versioning: AUTO_UPGRADE. A long backlog continues as new run after run, and the server (1.29) keeps a
// pinned run's continuation on its build: a pinned purge would hold an old build for as long as the backlog
// lasts. Each change goes behind patched() instead, as the ones below (README "Deploying workflow changes").
setWorkflowOptions(versioning('AUTO_UPGRADE'), retentionPurgeWorkflow);

/** The daily purge (started by a Temporal Schedule): everything past its retention period goes, in batches. */
export async function retentionPurgeWorkflow(policy: RetentionPolicy, carried: RetentionResult = { bookingsAnonymized: 0, webhookEventsDeleted: 0 }): Promise<RetentionResult> {
  const now = Date.now();
  const bookingCutoff = new Date(now - policy.bookingPiiDays * DAY_MS).toISOString();
  const webhookCutoff = new Date(now - policy.webhookEventDays * DAY_MS).toISOString();
  const authCutoff = new Date(now - (policy.authRecordDays ?? DEFAULT_AUTH_RECORD_DAYS) * DAY_MS).toISOString();
  // A day's margin: the database refuses any trim inside the retention period by its own clock.
  const auditCutoff = new Date(now - (policy.auditMonths ?? DEFAULT_AUDIT_MONTHS) * MONTH_MS - DAY_MS).toISOString();
  const result = { ...carried };
  for (let batch = 0; batch < BATCHES_PER_RUN; batch += 1) {
    const anonymized = await step.anonymizeExpiredBookings({ cutoff: bookingCutoff, batchSize: policy.batchSize });
    const deleted = await step.deleteExpiredWebhookEvents({ cutoff: webhookCutoff, batchSize: policy.batchSize });
    result.bookingsAnonymized += anonymized;
    result.webhookEventsDeleted += deleted;
    let authDeleted = 0;
    // Added after runs were recorded: histories from before replay without the step.
    if (patched('purge-auth-records')) {
      authDeleted = await step.deleteExpiredAuthRecords({ cutoff: authCutoff, batchSize: policy.batchSize });
      result.authRecordsDeleted = (result.authRecordsDeleted ?? 0) + authDeleted;
    }
    let auditTrimmed = 0;
    if (patched('audit-trim')) {
      // Trimming needs a checkpoint that covers what goes; take one first.
      if (batch === 0) await step.takeAuditCheckpoint();
      auditTrimmed = await step.trimAuditLog({ before: auditCutoff, maxRows: policy.batchSize });
      result.auditRowsTrimmed = (result.auditRowsTrimmed ?? 0) + auditTrimmed;
    }
    if (anonymized < policy.batchSize && deleted < policy.batchSize && authDeleted < policy.batchSize && auditTrimmed < policy.batchSize) {
      return result;
    }
  }
  return continueAsNew<typeof retentionPurgeWorkflow>(policy, result);
}
