/** Where retention reaches into the system of record. */
export interface RetentionStore {
  /** Replaces the PII of up to `limit` bookings created before `cutoff`; ids and amounts stay for accounting. */
  anonymizeBookingsBefore(cutoff: Date, limit: number): Promise<number>;
  deleteWebhookEventsBefore(cutoff: Date, limit: number): Promise<number>;
  /** Sessions that ended (expired or revoked), used or expired e-mail/reset tokens, delivered mail. */
  deleteAuthRecordsBefore(cutoff: Date, limit: number): Promise<number>;
}

export interface RetentionDeps {
  retention: RetentionStore;
}

/** Periods after which data goes: booking PII (tax/legal: 7 years), webhook dedup records. */
export interface RetentionPolicy {
  bookingPiiDays: number;
  webhookEventDays: number;
  /** Ended sessions, spent tokens and delivered mail; absent in schedules made before it existed. */
  authRecordDays?: number;
  /** Audit rows (SECURITY.md §23: 18 months), trimmed only behind a checkpoint; absent in older schedules. */
  auditMonths?: number;
  batchSize: number;
}

/** The retention purge's steps: each handles one batch and says how many rows it touched. */
export function createRetentionActivities(deps: RetentionDeps) {
  return {
    async anonymizeExpiredBookings(input: { cutoff: string; batchSize: number }): Promise<number> {
      return deps.retention.anonymizeBookingsBefore(new Date(input.cutoff), input.batchSize);
    },
    async deleteExpiredWebhookEvents(input: { cutoff: string; batchSize: number }): Promise<number> {
      return deps.retention.deleteWebhookEventsBefore(new Date(input.cutoff), input.batchSize);
    },
    async deleteExpiredAuthRecords(input: { cutoff: string; batchSize: number }): Promise<number> {
      return deps.retention.deleteAuthRecordsBefore(new Date(input.cutoff), input.batchSize);
    },
  };
}
