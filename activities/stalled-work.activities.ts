/**
 * Work whose start was lost: the API commits a row, then starts a workflow; when Temporal is
 * unreachable between the two, the row waits. The sweep finishes what it can and closes the rest.
 */
export interface StalledWorkStore {
  /** Undelivered outbox messages created in the window, oldest first. */
  undeliveredMail(window: { since: Date; before: Date }, limit: number): Promise<string[]>;
  /**
   * A page of bookings still PENDING that were created before `before`, oldest first (by created
   * at, then id), starting after the row `after` names: the keyset cursor of the previous page.
   */
  pendingBookings(before: Date, limit: number, after?: PendingCursor): Promise<Array<{ bookingId: string; workflowId: string; cursor: PendingCursor }>>;
  /** Marks a booking FAILED if it is still PENDING; false when something else moved it first. */
  failUnstarted(bookingId: string, failure: { code: string; message: string }): Promise<boolean>;
}

/** Where a page of pending bookings ended; opaque to the activity (the store's own precision). */
export interface PendingCursor {
  createdAt: string;
  id: string;
}

/** Starts and looks up workflows by id (a Temporal client in the worker). */
export interface WorkflowStarter {
  /** Starts the delivery of one outbox message; 'running' when its delivery is under way already. */
  startNotification(outboxId: string): Promise<'started' | 'running'>;
  /** Whether any run of this workflow id exists (running or closed). */
  exists(workflowId: string): Promise<boolean>;
}

export interface StalledWorkDeps {
  stalledWork: StalledWorkStore;
  workflows: WorkflowStarter;
}

export const NOT_STARTED = {
  code: 'NOT_STARTED',
  message: 'The booking could not be started; nothing was held or charged. Please book again.',
} as const;

export function createStalledWorkActivities(deps: StalledWorkDeps) {
  return {
    /** Starts delivery of mail whose notification workflow was never started (or ran out of time). */
    async relayStalledMail(input: { since: string; before: string; limit: number }): Promise<{ started: number; running: number }> {
      const ids = await deps.stalledWork.undeliveredMail({ since: new Date(input.since), before: new Date(input.before) }, input.limit);
      let started = 0;
      for (const id of ids) if ((await deps.workflows.startNotification(id)) === 'started') started += 1;
      return { started, running: ids.length - started };
    },

    /**
     * A PENDING booking without a saga holds nothing and charged nothing (the saga does both).
     * Its client did not retry with the same key in time: it fails, visibly, instead of waiting for ever.
     * Pages through every such row, `limit` at a time: rows skipped because their saga exists (one
     * that has not claimed its row yet, or was terminated before) never hide the rows behind them.
     */
    async failUnstartedBookings(input: { before: string; limit: number }): Promise<{ failed: number; owned: number }> {
      const pageSize = Math.max(1, input.limit);
      let failed = 0;
      let seen = 0;
      let after: PendingCursor | undefined;
      for (;;) {
        const rows = await deps.stalledWork.pendingBookings(new Date(input.before), pageSize, after);
        for (const row of rows) {
          if (await deps.workflows.exists(row.workflowId)) continue; // its saga writes its status
          // Conditional on PENDING: a saga that claimed the row meanwhile (STARTED) keeps it.
          if (await deps.stalledWork.failUnstarted(row.bookingId, NOT_STARTED)) failed += 1;
        }
        seen += rows.length;
        if (rows.length < pageSize) return { failed, owned: seen - failed };
        after = rows.at(-1)!.cursor;
      }
    },
  };
}
