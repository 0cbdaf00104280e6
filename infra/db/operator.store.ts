import { QueryOrder } from '@mikro-orm/postgresql';
import { AuditEntry, Booking, Payment, ReconciliationCase, type IReconciliationCase } from './entities.js';
import type { Orm } from './orm.js';

interface CaseRow {
  id: string;
  booking_id: string;
  kind: string;
  evidence: Record<string, string | number | boolean | null>;
  opened_at: Date;
  last_seen_at: Date;
  resolved_at: Date | null;
  resolution: string | null;
  resolved_by: string | null;
  cursor_at: string;
}

const caseRecord = (row: IReconciliationCase) => ({
  id: row.id,
  bookingId: row.booking.id,
  kind: row.kind,
  evidence: row.evidence,
  openedAt: row.openedAt,
  lastSeenAt: row.lastSeenAt,
  resolvedAt: row.resolvedAt ?? null,
  resolution: row.resolution ?? null,
  resolvedBy: row.resolvedBy ?? null,
});

/** What the operators' views read and change (api/admin.service.ts, api/cases.service.ts): plain rows out. */
export function createOperatorStore(orm: Orm) {
  return {
    async refundablePayment(bookingId: string) {
      const em = orm.em.fork();
      if (!(await em.count(Booking, { id: bookingId }))) return null;
      const payment = await em.findOne(Payment, { booking: bookingId, status: { $in: ['CAPTURED', 'REFUNDED'] } }, { orderBy: { createdAt: 'desc' } });
      return {
        payment: payment && {
          paymentIntentId: payment.paymentIntentId,
          status: payment.status,
          amountMinor: payment.amountMinor,
          refundedMinor: payment.refundedMinor,
          currency: payment.currency,
        },
      };
    },

    async auditRows(query: { before?: string; actor?: string; action?: string; resource?: string; from?: Date; to?: Date; rows: number }) {
      const occurredAt = {
        ...(query.from === undefined ? {} : { $gte: query.from }),
        ...(query.to === undefined ? {} : { $lt: query.to }),
      };
      const rows = await orm.em.fork().find(
        AuditEntry,
        {
          ...(query.before === undefined ? {} : { seq: { $lt: query.before } }),
          ...(query.actor === undefined ? {} : { actor: query.actor }),
          ...(query.action === undefined ? {} : { action: query.action }),
          ...(query.resource === undefined ? {} : { resource: query.resource }),
          ...(Object.keys(occurredAt).length === 0 ? {} : { occurredAt }),
        },
        {
          fields: ['seq', 'occurredAt', 'actor', 'action', 'resource', 'result', 'ip', 'details'],
          orderBy: { seq: QueryOrder.DESC },
          limit: query.rows,
        },
      );
      return rows.map((row) => ({
        seq: String(row.seq),
        occurredAt: row.occurredAt,
        actor: row.actor,
        action: row.action,
        resource: row.resource,
        result: row.result,
        ip: row.ip ?? null,
        details: row.details,
      }));
    },

    cases: {
      async page(query: { status?: 'open' | 'resolved'; kind?: string; after?: { at: string; id: string }; rows: number }) {
        // opened_at at Postgres's microseconds, as the bookings' cursor (booking-records.store.ts).
        const rows = await orm.em.getConnection().execute<CaseRow[]>(
          `select id, booking_id, kind, evidence, opened_at, last_seen_at, resolved_at, resolution, resolved_by,
             to_char(opened_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at
           from reconciliation_cases
           where (?::text is null or (?::text = 'open') = (resolved_at is null))
             and (?::text is null or kind = ?::text)
             and (?::timestamptz is null or (opened_at, id) < (?::timestamptz, ?::uuid))
           order by opened_at desc, id desc limit ?`,
          [query.status ?? null, query.status ?? null, query.kind ?? null, query.kind ?? null, query.after?.at ?? null, query.after?.at ?? null, query.after?.id ?? null, query.rows],
        );
        return rows.map((row) => ({
          id: row.id,
          bookingId: row.booking_id,
          kind: row.kind,
          evidence: row.evidence,
          openedAt: new Date(row.opened_at),
          lastSeenAt: new Date(row.last_seen_at),
          resolvedAt: row.resolved_at ? new Date(row.resolved_at) : null,
          resolution: row.resolution,
          resolvedBy: row.resolved_by,
          cursorAt: row.cursor_at,
        }));
      },

      async find(caseId: string) {
        const row = await orm.em.fork().findOne(ReconciliationCase, { id: caseId });
        return row ? caseRecord(row) : null;
      },

      async sagaOf(bookingId: string) {
        return (await orm.em.fork().findOneOrFail(Booking, { id: bookingId }, { fields: ['workflowId'] })).workflowId;
      },

      async resolve(caseId: string, resolution: { resolvedAt: Date; resolution: string; resolvedBy: string }) {
        return (await orm.em.fork().nativeUpdate(ReconciliationCase, { id: caseId, resolvedAt: null }, resolution)) > 0;
      },
    },
  };
}
