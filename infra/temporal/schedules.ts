import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import type { RetentionPolicy } from '../../activities/retention.activities.js';
import { retentionPurgeWorkflow } from '../../workflows/retention.workflow.js';
import { auditCheckpointWorkflow } from '../../workflows/audit-checkpoint.workflow.js';

/** Creates the retention purge's Schedule unless it exists; safe on every start of every worker. */
export async function ensureRetentionSchedule(
  client: Client,
  options: { scheduleId?: string; taskQueue: string; everyMs: number; policy: RetentionPolicy },
): Promise<'created' | 'exists'> {
  const scheduleId = options.scheduleId ?? 'retention-purge';
  try {
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: options.everyMs }] },
      action: {
        type: 'startWorkflow',
        workflowType: retentionPurgeWorkflow,
        args: [options.policy],
        taskQueue: options.taskQueue,
        workflowId: `${scheduleId}-run`,
      },
    });
    return 'created';
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) return 'exists';
    throw error;
  }
}

/** Creates the audit checkpoint Schedule (every 15 minutes) unless it exists: tail truncation is detected up to the last one. */
export async function ensureAuditCheckpointSchedule(
  client: Client,
  options: { scheduleId?: string; taskQueue: string; everyMs?: number },
): Promise<'created' | 'exists'> {
  const scheduleId = options.scheduleId ?? 'audit-checkpoint';
  try {
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: options.everyMs ?? 15 * 60_000 }] },
      action: { type: 'startWorkflow', workflowType: auditCheckpointWorkflow, args: [], taskQueue: options.taskQueue, workflowId: `${scheduleId}-run` },
    });
    return 'created';
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) return 'exists';
    throw error;
  }
}
