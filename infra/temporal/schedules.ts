import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import type { Workflow } from '@temporalio/workflow';
import type { RetentionPolicy } from '../../activities/retention.activities.js';
import { retentionPurgeWorkflow } from '../../workflows/retention.workflow.js';
import { auditCheckpointWorkflow } from '../../workflows/audit-checkpoint.workflow.js';
import { stalledWorkSweepWorkflow, type StalledWorkPolicy } from '../../workflows/stalled-work.workflow.js';
import { reconciliationWorkflow } from '../../workflows/reconciliation.workflow.js';

interface Every {
  scheduleId: string;
  taskQueue: string;
  everyMs: number;
  workflow: Workflow;
  // Typed by each caller below, which knows its workflow's parameters.
  args: unknown[];
}

/** Creates an interval Schedule unless one with its id exists; safe on every start of every worker. */
async function ensureSchedule(client: Client, options: Every): Promise<'created' | 'exists'> {
  try {
    await client.schedule.create({
      scheduleId: options.scheduleId,
      spec: { intervals: [{ every: options.everyMs }] },
      action: {
        type: 'startWorkflow',
        workflowType: options.workflow,
        args: options.args,
        taskQueue: options.taskQueue,
        workflowId: `${options.scheduleId}-run`,
      },
    });
    return 'created';
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) return 'exists';
    throw error;
  }
}

/** The retention purge (daily by default). */
export function ensureRetentionSchedule(
  client: Client,
  options: { scheduleId?: string; taskQueue: string; everyMs: number; policy: RetentionPolicy },
) {
  const { scheduleId = 'retention-purge', taskQueue, everyMs, policy } = options;
  return ensureSchedule(client, { scheduleId, taskQueue, everyMs, workflow: retentionPurgeWorkflow, args: [policy] });
}

/** Audit checkpoints every 15 minutes: tail truncation is detected up to the last one. */
export function ensureAuditCheckpointSchedule(client: Client, options: { scheduleId?: string; taskQueue: string; everyMs?: number }) {
  const { scheduleId = 'audit-checkpoint', taskQueue, everyMs = 15 * 60_000 } = options;
  return ensureSchedule(client, { scheduleId, taskQueue, everyMs, workflow: auditCheckpointWorkflow, args: [] });
}

/** The sweep of work whose workflow start was lost (every few minutes). */
export function ensureStalledWorkSchedule(
  client: Client,
  options: { scheduleId?: string; taskQueue: string; everyMs: number; policy: StalledWorkPolicy },
) {
  const { scheduleId = 'stalled-work-sweep', taskQueue, everyMs, policy } = options;
  return ensureSchedule(client, { scheduleId, taskQueue, everyMs, workflow: stalledWorkSweepWorkflow, args: [policy] });
}

/**
 * The reconciler (every few minutes). On demand: `temporal schedule trigger --schedule-id reconciliation`,
 * or start reconciliationWorkflow with `{ bookingIds }` for a few bookings.
 */
export function ensureReconciliationSchedule(client: Client, options: { scheduleId?: string; taskQueue: string; everyMs: number }) {
  const { scheduleId = 'reconciliation', taskQueue, everyMs } = options;
  return ensureSchedule(client, { scheduleId, taskQueue, everyMs, workflow: reconciliationWorkflow, args: [{}] });
}
