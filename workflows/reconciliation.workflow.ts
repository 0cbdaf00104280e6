import { ApplicationFailure, continueAsNew, patched, proxyActivities, setWorkflowOptions } from '@temporalio/workflow';
import type { createReconciliationActivities } from '../activities/reconciliation.activities.js';
import { versioning } from './versioning.js';

type ReconciliationActivities = ReturnType<typeof createReconciliationActivities>;

// A page does describe + provider + Stripe reads per booking: minutes at worst, retried whole.
const PAGE_STEP = {
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
} as const;
const act = proxyActivities<ReconciliationActivities>(PAGE_STEP);

/**
 * Changes to this released workflow, each behind patched() so histories recorded before it replay.
 * reconciliation-unreadable: a booking a read failed for is counted, not retried with its page; a run
 *   with one keeps the watermark (so the next run reads it again), and a run that read nothing fails.
 */
const PATCH = { unreadable: 'reconciliation-unreadable' } as const;

export const DEFAULT_RECONCILIATION_PAGE_SIZE = 25;
// Past this many pages a run continues as new, so its history stays short.
const PAGES_PER_RUN = 40;

export interface ReconciliationInput {
  /** On demand for these bookings only; a full run (the Schedule's) when absent. */
  bookingIds?: string[];
  pageSize?: number;
  /** Where a run that continued as new goes on. */
  resume?: { since: string | null; startedAt: string; after: string; totals: ReconciliationTotals };
}

export interface ReconciliationTotals {
  examined: number;
  opened: number;
  closed: number;
  repaired: number;
  /** Bookings that could not be read (Temporal, a provider or Stripe failed); absent from runs before the patch. */
  unreadable?: number;
}

// Worker Versioning: AUTO_UPGRADE, for the reason retention.workflow.ts gives: its pages continue as new runs,
// which a pinned chain would keep on the old build. Changes go behind patched() (PATCH above).
setWorkflowOptions(versioning('AUTO_UPGRADE'), reconciliationWorkflow);

/** Compares provider, Stripe, Postgres and workflow for bookings touched since the last full run; opens, refreshes and closes cases. */
export async function reconciliationWorkflow(input: ReconciliationInput = {}): Promise<ReconciliationTotals> {
  const countsUnreadable = patched(PATCH.unreadable);
  const limit = input.pageSize ?? DEFAULT_RECONCILIATION_PAGE_SIZE;
  const { since, startedAt } = input.resume ?? (await act.beginReconciliation());
  const totals: ReconciliationTotals = input.resume?.totals ?? { examined: 0, opened: 0, closed: 0, repaired: 0, ...(countsUnreadable ? { unreadable: 0 } : {}) };
  let after = input.resume?.after;
  for (let pages = 1; ; pages += 1) {
    const page = await act.reconcilePage({ since, limit, ...(after ? { after } : {}), ...(input.bookingIds ? { bookingIds: input.bookingIds } : {}) });
    totals.examined += page.examined;
    totals.opened += page.opened;
    totals.closed += page.closed;
    totals.repaired += page.repaired;
    // An activity of a worker older than the patch (a rolling deploy) reports none.
    if (countsUnreadable) totals.unreadable = (totals.unreadable ?? 0) + (page.unreadable ?? 0);
    if (!page.next) break;
    after = page.next;
    if (pages >= PAGES_PER_RUN) return continueAsNew<typeof reconciliationWorkflow>({ ...input, resume: { since, startedAt, after, totals } });
  }
  const unreadable = totals.unreadable ?? 0;
  if (unreadable > 0 && totals.examined === 0) {
    throw ApplicationFailure.create({ type: 'RECONCILIATION_UNREADABLE', message: `None of the ${unreadable} bookings could be read; the worker's log names them.`, nonRetryable: true });
  }
  // Only a full run moves the watermark: one on demand looked at a few bookings. One that could not
  // read a booking keeps it, or that booking would fall behind the watermark unread.
  if (!input.bookingIds && unreadable === 0) await act.finishReconciliation({ startedAt });
  return totals;
}
