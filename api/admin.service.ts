import { QueryOrder } from '@mikro-orm/postgresql';
import type { BookingStatus } from '../domain/booking-status.js';
import { fromMinor, type Currency } from '../domain/money.js';
import { appendAudit, type AuditEvent } from '../infra/audit/audit-log.js';
import { AuditEntry, Booking, BookingItem } from '../infra/db/entities.js';
import type { Orm } from '../infra/db/orm.js';
import { badCursor, bookingCursor, cursorAt, decodeCursor as decode, encodeCursor as encode, readBookingCursor } from './booking-cursor.js';

/** Operators' read views (api.md "operators"): no PII leaves here, and every read is audited. */
export interface AdminServiceDeps {
  orm: Orm;
  auditKey: string;
}

/** Who is reading, for the audit row their read leaves. */
export interface AdminCaller {
  userId: string;
  ip: string;
  userAgent: string;
}

export interface BookingListQuery {
  status?: BookingStatus;
  cursor?: string;
  limit: number;
}

export interface AuditSearchQuery {
  actor?: string;
  action?: string;
  resource?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit: number;
}

const MAX_SEQ = 2n ** 63n - 1n;

function readSeqCursor(cursor: string): string {
  const seq = decode(cursor);
  if (!/^[1-9]\d{0,18}$/.test(seq) || BigInt(seq) > MAX_SEQ) throw badCursor();
  return seq;
}

interface BookingRow {
  id: string;
  user: string;
  status: string;
  totalMinor: number;
  currency: string;
  failureCode: string | null;
  createdAt: Date;
  updatedAt: Date;
  cursor_at: string;
}

export function createAdminService(deps: AdminServiceDeps) {
  async function audited(caller: AdminCaller, event: Pick<AuditEvent, 'action' | 'resource' | 'details'>) {
    await deps.orm.em.fork().transactional((tx) =>
      appendAudit(tx, deps.auditKey, {
        actor: `user:${caller.userId}`, result: 'success', ip: caller.ip, userAgent: caller.userAgent, ...event,
      }),
    );
  }

  return {
    /** Every user's bookings, newest first: ids, status, price and providers; no passenger or contact data. */
    async listBookings(caller: AdminCaller, query: BookingListQuery) {
      const after = query.cursor === undefined ? undefined : readBookingCursor(query.cursor);
      const em = deps.orm.em.fork();
      const qb = em
        .createQueryBuilder(Booking, 'b')
        .select(['id', 'user', 'status', 'totalMinor', 'currency', 'failureCode', 'createdAt', 'updatedAt', cursorAt()])
        .orderBy({ createdAt: QueryOrder.DESC, id: QueryOrder.DESC })
        // One row more than the page says whether there is a next one.
        .limit(query.limit + 1);
      if (query.status) qb.andWhere({ status: query.status });
      if (after) qb.andWhere('(b.created_at, b.id) < (?::timestamptz, ?::uuid)', [after.at, after.id]);
      const rows = await qb.execute<BookingRow[]>('all');
      const page = rows.slice(0, query.limit);

      const items = page.length === 0 ? [] : await em.find(BookingItem, { booking: { $in: page.map((r) => r.id) } }, { fields: ['booking', 'provider'] });
      const providers = new Map<string, Set<string>>();
      for (const item of items) providers.set(item.booking.id, (providers.get(item.booking.id) ?? new Set()).add(item.provider));

      const last = page.at(-1);
      const result = {
        items: page.map((row) => ({
          bookingId: row.id,
          userId: row.user,
          status: row.status,
          price: fromMinor(row.totalMinor, row.currency as Currency),
          providers: [...(providers.get(row.id) ?? [])].sort(),
          createdAt: new Date(row.createdAt).toISOString(),
          updatedAt: new Date(row.updatedAt).toISOString(),
          ...(row.failureCode ? { failure: { code: row.failureCode } } : {}),
        })),
        nextCursor: rows.length > query.limit && last ? bookingCursor(last.cursor_at, last.id) : null,
      };
      await audited(caller, {
        action: 'admin.bookings.list',
        resource: 'bookings',
        details: { status: query.status ?? null, cursor: query.cursor ?? null, limit: query.limit, returned: result.items.length },
      });
      return result;
    },

    /** The audit log, newest first, filtered by exact actor, action and resource and a time range [from, to). */
    async searchAudit(caller: AdminCaller, query: AuditSearchQuery) {
      const before = query.cursor === undefined ? undefined : readSeqCursor(query.cursor);
      const occurredAt = {
        ...(query.from === undefined ? {} : { $gte: new Date(query.from) }),
        ...(query.to === undefined ? {} : { $lt: new Date(query.to) }),
      };
      const rows = await deps.orm.em.fork().find(
        AuditEntry,
        {
          ...(before === undefined ? {} : { seq: { $lt: before } }),
          ...(query.actor === undefined ? {} : { actor: query.actor }),
          ...(query.action === undefined ? {} : { action: query.action }),
          ...(query.resource === undefined ? {} : { resource: query.resource }),
          ...(Object.keys(occurredAt).length === 0 ? {} : { occurredAt }),
        },
        {
          fields: ['seq', 'occurredAt', 'actor', 'action', 'resource', 'result', 'ip', 'details'],
          orderBy: { seq: QueryOrder.DESC },
          limit: query.limit + 1,
        },
      );
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const result = {
        items: page.map((row) => ({
          seq: String(row.seq),
          occurredAt: row.occurredAt.toISOString(),
          actor: row.actor,
          action: row.action,
          resource: row.resource,
          result: row.result,
          ip: row.ip ?? null,
          details: row.details,
        })),
        nextCursor: rows.length > query.limit && last ? encode(String(last.seq)) : null,
      };
      await audited(caller, {
        action: 'admin.audit.search',
        resource: 'audit_log',
        details: {
          actor: query.actor ?? null,
          action: query.action ?? null,
          resource: query.resource ?? null,
          from: query.from ?? null,
          to: query.to ?? null,
          cursor: query.cursor ?? null,
          limit: query.limit,
          returned: result.items.length,
        },
      });
      return result;
    },
  };
}
export type AdminService = ReturnType<typeof createAdminService>;
