import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import type { Workflow } from '@temporalio/workflow';
import { canonicalJson } from '../../domain/canonical-json.js';
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

/**
 * Creates an interval Schedule, or brings an existing one to this interval, workflow, task queue
 * and arguments (a changed setting takes effect at the next worker start); safe on every start of
 * every worker. Arguments are compared decoded, since encrypted payloads differ on every write.
 */
async function ensureSchedule(client: Client, options: Every): Promise<'created' | 'updated' | 'exists'> {
  const spec = { intervals: [{ every: options.everyMs }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: options.workflow,
    args: options.args,
    taskQueue: options.taskQueue,
    workflowId: `${options.scheduleId}-run`,
  };
  try {
    await client.schedule.create({ scheduleId: options.scheduleId, spec, action });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  const handle = client.schedule.getHandle(options.scheduleId);
  const current = await handle.describe();
  const same =
    current.spec.intervals?.length === 1 &&
    current.spec.intervals[0]?.every === options.everyMs &&
    !current.spec.calendars?.length &&
    current.action.workflowType === options.workflow.name &&
    current.action.taskQueue === options.taskQueue &&
    current.action.workflowId === action.workflowId &&
    canonicalJson(current.action.args ?? []) === canonicalJson(options.args);
  if (same) return 'exists';
  // Only what this code owns changes: a pause or a note an operator left stays.
  await handle.update((previous) => ({ ...previous, spec, action }));
  return 'updated';
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
