import { continueAsNew, proxyActivities } from '@temporalio/workflow';
import type { createReconciliationActivities } from '../activities/reconciliation.activities.js';

type ReconciliationActivities = ReturnType<typeof createReconciliationActivities>;

// A page does describe + provider + Stripe reads per booking: minutes at worst, retried whole.
const PAGE_STEP = {
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
} as const;
const act = proxyActivities<ReconciliationActivities>(PAGE_STEP);

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
}

/** Compares provider, Stripe, Postgres and workflow for bookings touched since the last full run; opens, refreshes and closes cases. */
export async function reconciliationWorkflow(input: ReconciliationInput = {}): Promise<ReconciliationTotals> {
  const limit = input.pageSize ?? DEFAULT_RECONCILIATION_PAGE_SIZE;
  const { since, startedAt } = input.resume ?? (await act.beginReconciliation());
  const totals: ReconciliationTotals = input.resume?.totals ?? { examined: 0, opened: 0, closed: 0, repaired: 0 };
  let after = input.resume?.after;
  for (let pages = 1; ; pages += 1) {
    const page = await act.reconcilePage({ since, limit, ...(after ? { after } : {}), ...(input.bookingIds ? { bookingIds: input.bookingIds } : {}) });
    totals.examined += page.examined;
    totals.opened += page.opened;
    totals.closed += page.closed;
    totals.repaired += page.repaired;
    if (!page.next) break;
    after = page.next;
    if (pages >= PAGES_PER_RUN) return continueAsNew<typeof reconciliationWorkflow>({ ...input, resume: { since, startedAt, after, totals } });
  }
  // Only a full run moves the watermark: one on demand looked at a few bookings.
  if (!input.bookingIds) await act.finishReconciliation({ startedAt });
  return totals;
}
