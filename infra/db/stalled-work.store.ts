import type { AppendAudit } from './append-audit.js';
import { Booking, OutboxMessage } from './entities.js';
import type { Orm } from './orm.js';
import type { StalledWorkStore } from '../../activities/stalled-work.activities.js';

/** The rows a lost start leaves behind: undelivered mail and bookings still PENDING. */
export function createStalledWorkStore(orm: Orm, options: { audit: AppendAudit }): StalledWorkStore {
  return {
    async undeliveredMail(window, limit) {
      const rows = await orm.em
        .fork()
        .find(
          OutboxMessage,
          { deliveredAt: null, createdAt: { $gte: window.since, $lt: window.before } },
          { fields: ['id'], orderBy: { createdAt: 'asc' }, limit },
        );
      return rows.map((row) => row.id);
    },
    async pendingBookings(before, limit, after) {
      // Keyset on (created_at, id), served by bookings_status_created_id_idx. The cursor keeps the
      // timestamp as Postgres prints it: a JavaScript Date would drop the microseconds, and the page
      // boundary row would come back for ever.
      const rows = await orm.em.getConnection().execute<Array<{ id: string; workflow_id: string; created_at: string }>>(
        `select id, workflow_id, created_at::text as created_at from bookings
          where status = 'PENDING' and created_at < ?
            and (?::timestamptz is null or (created_at, id) > (?::timestamptz, ?::uuid))
          order by created_at, id
          limit ?`,
        [before, after?.createdAt ?? null, after?.createdAt ?? null, after?.id ?? null, limit],
      );
      return rows.map((row) => ({ bookingId: row.id, workflowId: row.workflow_id, cursor: { createdAt: row.created_at, id: row.id } }));
    },
    async failUnstarted(bookingId, failure) {
      return orm.em.fork().transactional(async (em) => {
        // Only a row still PENDING (the sweep's claim): a saga that claimed it first (STARTED) owns its status.
        const changed = await em.nativeUpdate(
          Booking,
          { id: bookingId, status: 'PENDING' },
          { status: 'FAILED', failureCode: failure.code, failureMessage: failure.message, updatedAt: new Date() },
        );
        if (changed === 0) return false;
        await options.audit(em, {
          actor: 'system:stalled-work-sweep',
          action: 'booking.status_changed',
          resource: `booking:${bookingId}`,
          result: 'FAILED',
          details: { from: 'PENDING', to: 'FAILED', code: failure.code },
        });
        return true;
      });
    },
  };
}
