import { randomUUID } from 'node:crypto';
import { LockMode, QueryOrder, raw, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import type { AuditEvent } from '../../domain/audit-event.js';
import type { BookingStatus } from '../../domain/booking-status.js';
import { DEFAULT_FARE_RULE } from '../../domain/fare-rules.js';
import type { AppendAudit } from './append-audit.js';
import { Booking, BookingItem, type EncryptedPassenger, type IBooking } from './entities.js';
import type { Orm } from './orm.js';

/** What two bookings under one Idempotency-Key collide on (infra/db/migrations/0001-initial.migration.ts). */
const IDEMPOTENCY_CONSTRAINTS = new Set(['bookings_user_idempotency_key_unique', 'bookings_workflow_id_key']);

/**
 * A new booking and its items in one statement (atomic on its own), through the ORM's knex with
 * bound parameters: MikroORM's unit of work, or its native inserts, take four round trips (begin,
 * two inserts, commit) and 2.4 times the client CPU for the same rows (BENCHMARKS.md, persistence).
 * The text depends on the number of items only.
 */
function insertBookingSql(itemCount: number): string {
  if (itemCount < 1) throw new TypeError('a booking has at least one item');
  const rows = Array.from({ length: itemCount }, () => '(?, ?, ?, ?, ?, ?)').join(', ');
  return `with b as (
      insert into bookings (id, user_id, workflow_id, idempotency_key, request_hash, status, total_minor, currency,
        passengers, contact_email, contact_phone, notes, created_at, updated_at)
      values (?, ?, ?, ?, ?, 'PENDING', ?, ?, ?, ?, ?, ?, ?, ?)
      returning id)
    insert into booking_items (id, booking_id, offer_id, provider, kind, price_minor, currency, state, fare_rule)
    select v.id::uuid, b.id, v.offer_id, v.provider, v.kind, v.price_minor::integer, v.currency, 'PENDING', ?
    from b cross join (values ${rows}) as v (id, offer_id, provider, kind, price_minor, currency)`;
}

// Microseconds, as Postgres holds them: a JavaScript Date would round them to milliseconds, and a
// cursor a fraction too early or late skips or repeats a row. The SQL stays a constant.
const cursorAt = () => raw(`to_char(b.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at`);

interface PageRow {
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

/** The entity (items and payments loaded) as the plain record the API reads. */
export function bookingRecord(booking: IBooking) {
  return {
    id: booking.id,
    userId: booking.user.id,
    workflowId: booking.workflowId,
    requestHash: booking.requestHash,
    status: booking.status,
    totalMinor: booking.totalMinor,
    currency: booking.currency,
    passengers: booking.passengers.map((p) => ({ ...p })),
    contactEmail: booking.contactEmail,
    contactPhone: booking.contactPhone,
    notes: booking.notes ?? null,
    failureCode: booking.failureCode ?? null,
    failureMessage: booking.failureMessage ?? null,
    createdAt: booking.createdAt,
    updatedAt: booking.updatedAt,
    items: booking.items.getItems()
      .map((item) => ({
        offerId: item.offerId,
        provider: item.provider,
        kind: item.kind,
        priceMinor: item.priceMinor,
        currency: item.currency,
        state: item.state,
        fareRule: item.fareRule,
        confirmationCode: item.confirmationCode ?? null,
      }))
      .sort((a, b) => a.offerId.localeCompare(b.offerId)),
    payments: booking.payments.getItems()
      .slice()
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .map((payment) => ({
        paymentIntentId: payment.paymentIntentId,
        status: payment.status,
        amountMinor: payment.amountMinor,
        refundedMinor: payment.refundedMinor,
        currency: payment.currency,
      })),
  };
}
export type StoredBookingRecord = ReturnType<typeof bookingRecord>;

/** The API's bookings (api/booking-records.ts): one forked EntityManager per call, records out, never entities. */
export function createBookingRecordsStore(orm: Orm, options: { audit: AppendAudit }) {
  async function findOne(where: { id: string; user: string } | { user: string; idempotencyKey: string }) {
    const booking = await orm.em.fork().findOne(Booking, where, { populate: ['items', 'payments'] });
    return booking ? bookingRecord(booking) : null;
  }

  return {
    findOwn: (userId: string, bookingId: string) => findOne({ id: bookingId, user: userId }),

    /** Asked on every POST, and nearly always answered "none": that answer costs one indexed lookup, not the ORM's populate. */
    async findByIdempotencyKey(userId: string, idempotencyKey: string) {
      const [row] = await orm.em.getKnex().raw<{ rows: Array<{ id: string }> }>('select id from bookings where user_id = ? and idempotency_key = ?', [userId, idempotencyKey]).then((r) => r.rows);
      return row ? findOne({ id: row.id, user: userId }) : null;
    },

    async create(booking: {
      id: string; userId: string; workflowId: string; idempotencyKey: string; requestHash: string; totalMinor: number; currency: string;
      passengers: readonly EncryptedPassenger[]; contactEmail: string; contactPhone: string; notes: string | null;
      items: ReadonlyArray<{ offerId: string; provider: string; kind: string; priceMinor: number; currency: string }>;
    }): Promise<StoredBookingRecord | 'duplicate'> {
      const now = new Date();
      const items = booking.items.map((item) => ({ id: randomUUID(), ...item, state: 'PENDING' as const }));
      try {
        // The user's row exists: only a signed-in user (whose session references it) gets here.
        await orm.em.getKnex().raw(insertBookingSql(items.length), [
          booking.id, booking.userId, booking.workflowId, booking.idempotencyKey, booking.requestHash, booking.totalMinor, booking.currency,
          JSON.stringify(booking.passengers), booking.contactEmail, booking.contactPhone, booking.notes, now, now,
          DEFAULT_FARE_RULE,
          ...items.flatMap((item) => [item.id, item.offerId, item.provider, item.kind, item.priceMinor, item.currency]),
        ]);
      } catch (error) {
        // A database's refusal (it carries a SQLSTATE) as MikroORM's own statements fail, in its exception
        // classes, which the log serializer knows; anything else (a pool time-out) as it is.
        const failure = typeof (error as { code?: unknown }).code === 'string' ? orm.em.getDriver().convertException(error as Error) : error;
        // A concurrent request with the same key committed first. Any other unique violation is not that race.
        if (failure instanceof UniqueConstraintViolationException && IDEMPOTENCY_CONSTRAINTS.has(String((failure as { constraint?: unknown }).constraint))) return 'duplicate';
        throw failure;
      }
      return {
        id: booking.id,
        userId: booking.userId,
        workflowId: booking.workflowId,
        requestHash: booking.requestHash,
        status: 'PENDING',
        totalMinor: booking.totalMinor,
        currency: booking.currency,
        passengers: booking.passengers.map((p) => ({ ...p })),
        contactEmail: booking.contactEmail,
        contactPhone: booking.contactPhone,
        notes: booking.notes,
        failureCode: null,
        failureMessage: null,
        createdAt: now,
        updatedAt: now,
        items: items
          .map((item) => ({ offerId: item.offerId, provider: item.provider, kind: item.kind, priceMinor: item.priceMinor, currency: item.currency, state: item.state, fareRule: DEFAULT_FARE_RULE, confirmationCode: null }))
          .sort((a, b) => a.offerId.localeCompare(b.offerId)),
        payments: [],
      };
    },

    /** Newest first by (created_at, id), a keyset page at a time, each row with its items by offer id. */
    async page(query: { userId?: string; status?: BookingStatus; after?: { at: string; id: string }; rows: number }) {
      const em = orm.em.fork();
      const qb = em
        .createQueryBuilder(Booking, 'b')
        .select(['id', 'user', 'status', 'totalMinor', 'currency', 'failureCode', 'createdAt', 'updatedAt', cursorAt()])
        .orderBy({ createdAt: QueryOrder.DESC, id: QueryOrder.DESC })
        .limit(query.rows);
      if (query.userId !== undefined) qb.andWhere({ user: query.userId });
      if (query.status) qb.andWhere({ status: query.status });
      if (query.after) qb.andWhere('(b.created_at, b.id) < (?::timestamptz, ?::uuid)', [query.after.at, query.after.id]);
      const rows = await qb.execute<PageRow[]>('all');
      const items = rows.length === 0 ? [] : await em.find(BookingItem, { booking: { $in: rows.map((r) => r.id) } }, { orderBy: { offerId: 'asc' } });
      return rows.map((row) => ({
        id: row.id,
        userId: row.user,
        status: row.status,
        totalMinor: row.totalMinor,
        currency: row.currency,
        failureCode: row.failureCode,
        createdAt: new Date(row.createdAt),
        updatedAt: new Date(row.updatedAt),
        cursorAt: row.cursor_at,
        items: items.filter((item) => item.booking.id === row.id).map((item) => ({
          offerId: item.offerId, provider: item.provider, kind: item.kind, priceMinor: item.priceMinor, currency: item.currency, state: item.state,
        })),
      }));
    },

    async update(userId: string, bookingId: string, changes: { notes?: string | null; contact?: { email: string; phone: string } }, audit: AuditEvent) {
      await orm.em.fork().transactional(async (tx) => {
        // Row first, audit lock second, as the saga's transitions take them (the other order deadlocks with them).
        await tx.findOneOrFail(Booking, { id: bookingId, user: userId }, { fields: ['id'], lockMode: LockMode.PESSIMISTIC_WRITE });
        await tx.nativeUpdate(Booking, { id: bookingId }, {
          ...(changes.notes !== undefined ? { notes: changes.notes } : {}),
          ...(changes.contact ? { contactEmail: changes.contact.email, contactPhone: changes.contact.phone } : {}),
          updatedAt: new Date(),
        });
        await options.audit(tx, audit);
      });
    },
  };
}
