import type { CaseKind, ChargeView, Evidence, RecordView, SagaView } from '../domain/reconciliation.js';

/** Where the reconciler's bookings and cases live (infra/db/reconciliation.store.ts). */
export interface ReconciliationStore {
  /** Starts a full run: where the last finished one began (none: everything), and now, by the database's clock. */
  begin(): Promise<{ since: string | null; startedAt: string }>;
  /** A full run got to the end: the next one looks at what was touched from `startedAt` on. */
  finish(startedAt: string): Promise<void>;
  /**
   * A page of bookings to look at, by id after `after`: touched since `since`, not yet terminal, or
   * with an open case (or exactly `bookingIds`, for a run on demand).
   */
  candidates(input: { since: string | null; after?: string; limit: number; bookingIds?: readonly string[] }): Promise<string[]>;
  /** What Postgres says about one booking, and its saga's workflow id. */
  load(bookingId: string): Promise<(RecordView & { workflowId: string }) | undefined>;
  /**
   * Opens or refreshes a case for each finding (closed at once when `repaired` says the reconciler
   * fixed it), and closes the booking's open cases no finding names; audited.
   */
  sync(bookingId: string, findings: ReadonlyArray<{ kind: CaseKind; evidence: Evidence; repaired?: string }>): Promise<{ opened: number; closed: number }>;
}

/** What Stripe says about a PaymentIntent; undefined when Stripe knows none of that id. */
export interface PaymentLedger {
  inspect(paymentIntentId: string): Promise<ChargeView | undefined>;
}

/** What Temporal says about a saga: its execution, and its `status` query while it runs. */
export interface SagaInspector {
  inspectSaga(workflowId: string): Promise<SagaView>;
  /** Only the execution's state, for a workflow with no `status` query (a cancellation). */
  inspectExecution(workflowId: string): Promise<SagaView['execution']>;
}
