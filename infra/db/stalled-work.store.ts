import { appendAudit } from '../audit/audit-log.js';
import { Booking, OutboxMessage } from './entities.js';
import type { Orm } from './orm.js';
import type { StalledWorkStore } from '../../activities/stalled-work.activities.js';

/** The rows a lost start leaves behind: undelivered mail and bookings still PENDING. */
export function createStalledWorkStore(orm: Orm, options: { auditKey: string }): StalledWorkStore {
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
    async pendingBookings(before, limit) {
      const rows = await orm.em
        .fork()
        .find(Booking, { status: 'PENDING', createdAt: { $lt: before } }, { fields: ['id', 'workflowId'], orderBy: { createdAt: 'asc' }, limit });
      return rows.map((row) => ({ bookingId: row.id, workflowId: row.workflowId }));
    },
    async failUnstarted(bookingId, failure) {
      return orm.em.fork().transactional(async (em) => {
        // Only a row still PENDING: a saga that started meanwhile owns its status.
        const changed = await em.nativeUpdate(
          Booking,
          { id: bookingId, status: 'PENDING' },
          { status: 'FAILED', failureCode: failure.code, failureMessage: failure.message, updatedAt: new Date() },
        );
        if (changed === 0) return false;
        await appendAudit(em, options.auditKey, {
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
