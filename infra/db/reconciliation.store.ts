import { randomUUID } from 'node:crypto';
import type { ReconciliationStore } from '../../activities/reconciliation.ports.js';
import { TERMINAL_STATUSES, type BookingStatus } from '../../domain/booking-status.js';
import { CASE_KINDS, OPERATOR_CLOSES, type CaseKind } from '../../domain/reconciliation.js';
import type { AppendAudit } from './append-audit.js';
import { Booking, BookingItem, Payment, ReconciliationCase } from './entities.js';
import type { Orm } from './orm.js';

const WATERMARK = 'bookings';
// A transaction that began before the last run and committed after it dated its rows before that run.
const WATERMARK_OVERLAP = "interval '5 minutes'";
const ACTOR = 'system:reconciler';
const TERMINAL = [...TERMINAL_STATUSES];

/** The reconciler's rows: bookings to look at, what Postgres says about one, and the cases. */
export function createReconciliationStore(orm: Orm, options: { audit: AppendAudit }): ReconciliationStore {
  return {
    async begin() {
      const [row] = await orm.em.getConnection().execute<Array<{ now: string; since: string | null }>>(
        `select now()::text as now,
           (select (started_at - ${WATERMARK_OVERLAP})::text from reconciliation_watermarks where name = ?) as since`,
        [WATERMARK],
      );
      return { since: row?.since ?? null, startedAt: row!.now };
    },

    async finish(startedAt) {
      await orm.em.getConnection().execute(
        `insert into reconciliation_watermarks (name, started_at) values (?, ?::timestamptz)
           on conflict (name) do update set started_at = greatest(excluded.started_at, reconciliation_watermarks.started_at)`,
        [WATERMARK, startedAt],
      );
    },

    async candidates({ since, after, limit, bookingIds }) {
      const connection = orm.em.getConnection();
      if (bookingIds) {
        const ids = `{${bookingIds.filter((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)).join(',')}}`;
        const rows = await connection.execute<Array<{ id: string }>>(
          'select b.id from bookings b where b.id = any(?::uuid[]) and (?::uuid is null or b.id > ?::uuid) order by b.id limit ?',
          [ids, after ?? null, after ?? null, limit],
        );
        return rows.map((row) => row.id);
      }
      // Touched since the last run (every booking on the first); still in flight (a saga may have died
      // meanwhile without touching the row); or a case still open (to refresh or close it).
      const rows = await connection.execute<Array<{ id: string }>>(
        `select b.id from bookings b
          where (b.status <> all(?::text[])
              or exists (select from reconciliation_cases c where c.booking_id = b.id and c.resolved_at is null)
              or ?::timestamptz is null or b.updated_at >= ?::timestamptz)
            and (?::uuid is null or b.id > ?::uuid)
          order by b.id limit ?`,
        [`{${TERMINAL.join(',')}}`, since, since, after ?? null, after ?? null, limit],
      );
      return rows.map((row) => row.id);
    },

    async load(bookingId) {
      const em = orm.em.fork();
      const booking = await em.findOne(Booking, { id: bookingId }, { fields: ['status', 'workflowId', 'failureCode'] });
      if (!booking) return undefined;
      const items = await em.find(BookingItem, { booking: bookingId }, { fields: ['offerId', 'provider', 'state'] });
      const payments = await em.find(Payment, { booking: bookingId }, { fields: ['paymentIntentId', 'status', 'amountMinor', 'currency'] });
      return {
        workflowId: booking.workflowId,
        status: booking.status as BookingStatus,
        failureCode: booking.failureCode ?? null,
        items: items.map(({ offerId, provider, state }) => ({ offerId, provider, state })),
        payments: payments.map(({ paymentIntentId, status, amountMinor, currency }) => ({ paymentIntentId, status, amountMinor, currency })),
      };
    },

    async sync(bookingId, findings) {
      return orm.em.fork().transactional(async (em) => {
        // One reconciliation of a booking at a time (a scheduled run and one on demand).
        await em.execute('select id from bookings where id = ? for no key update', [bookingId]);
        const open = await em.find(ReconciliationCase, { booking: bookingId, resolvedAt: null });
        const now = new Date();
        let opened = 0;
        let closed = 0;
        const audit = (action: string, kind: CaseKind, caseId: string, result: string) =>
          options.audit(em, { actor: ACTOR, action, resource: `booking:${bookingId}`, result, details: { caseId, kind } });

        for (const finding of findings) {
          const current = open.find((c) => c.kind === finding.kind);
          const resolved = finding.repaired ? { resolvedAt: now, resolution: finding.repaired, resolvedBy: ACTOR } : {};
          if (current) {
            await em.nativeUpdate(ReconciliationCase, { id: current.id, resolvedAt: null }, { evidence: finding.evidence, lastSeenAt: now, ...resolved });
            if (finding.repaired) {
              closed += 1;
              await audit('reconciliation.case_closed', finding.kind, current.id, 'repaired');
            }
            continue;
          }
          // An operator closed it, and what it records (a terminated saga) cannot change: not again.
          if (OPERATOR_CLOSES.has(finding.kind) && (await em.count(ReconciliationCase, { booking: bookingId, kind: finding.kind })) > 0) continue;
          const id = randomUUID();
          await em.insert(ReconciliationCase, { id, booking: bookingId, kind: finding.kind, evidence: finding.evidence, openedAt: now, lastSeenAt: now, ...resolved });
          opened += 1;
          await audit('reconciliation.case_opened', finding.kind, id, finding.repaired ? 'repaired' : 'open');
        }
        for (const stale of open) {
          if (OPERATOR_CLOSES.has(stale.kind as CaseKind) || findings.some((f) => f.kind === stale.kind)) continue;
          await em.nativeUpdate(ReconciliationCase, { id: stale.id, resolvedAt: null }, { resolvedAt: now, resolution: 'cleared: the views agree again', resolvedBy: ACTOR });
          closed += 1;
          await audit('reconciliation.case_closed', stale.kind as CaseKind, stale.id, 'cleared');
        }
        return { opened, closed };
      });
    },
  };
}

/** Open cases per kind, every kind listed (a kind with none reads 0, so an alert on it can clear). */
export async function countOpenCasesByKind(orm: Orm): Promise<Array<{ kind: string; count: number }>> {
  const rows = await orm.em.getConnection().execute<Array<{ kind: string; count: number }>>(
    'select kind, count(*)::int as count from reconciliation_cases where resolved_at is null group by kind',
  );
  return CASE_KINDS.map((kind) => ({ kind, count: rows.find((row) => row.kind === kind)?.count ?? 0 }));
}
