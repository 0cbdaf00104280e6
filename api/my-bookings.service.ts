import { LockMode, QueryOrder } from '@mikro-orm/postgresql';
import type { BookingStatus } from '../domain/booking-status.js';
import type { BookingPatch } from '../domain/booking.schemas.js';
import { isFareRule, refundMinor } from '../domain/fare-rules.js';
import { fromMinor, type Currency } from '../domain/money.js';
import { appendAudit } from '../infra/audit/audit-log.js';
import type { FieldCipher } from '../infra/crypto/field-cipher.js';
import { Booking, BookingItem, type IBooking } from '../infra/db/entities.js';
import type { Orm } from '../infra/db/orm.js';
import type { Logger } from '../infra/logger.js';
import type { PaymentChallenge } from '../infra/stripe/payment-challenges.js';
import { bookingCursor, cursorAt, readBookingCursor } from './booking-cursor.js';
import { ApiError } from './problem.js';

/** Reads a PaymentIntent's challenge (kind and client secret), only while Stripe asks the customer to authenticate. */
export interface PaymentChallenges {
  challengeOf(paymentIntentId: string): Promise<PaymentChallenge | null>;
}

export interface MyBookingsDeps {
  orm: Orm;
  cipher: FieldCipher;
  challenges: PaymentChallenges;
  auditKey: string;
  log: Logger;
}

export interface MyBookingsQuery {
  status?: BookingStatus;
  cursor?: string;
  limit: number;
}

interface BookingRow {
  id: string;
  status: string;
  totalMinor: number;
  currency: string;
  createdAt: Date;
  cursor_at: string;
}

const itemView = (item: { offerId: string; provider: string; kind: string; priceMinor: number; currency: string; state: string }) => ({
  offerId: item.offerId,
  provider: item.provider,
  kind: item.kind,
  price: fromMinor(item.priceMinor, item.currency as Currency),
  state: item.state,
});

/** What a confirmed booking gives back if cancelled now: the same sum the cancellation workflow refunds. */
function refundIfCancelled(booking: IBooking) {
  if (booking.status !== 'CONFIRMED') return undefined;
  const minor = booking.items.getItems().reduce((sum, item) => sum + refundMinor(isFareRule(item.fareRule) ? item.fareRule : 'SAVER', item.priceMinor), 0);
  return { refund: fromMinor(minor, booking.currency as Currency) };
}

/** The traveller's own view of a booking (docs/api.md "Bookings"): passports masked, no ciphertext. */
export function bookingView(booking: IBooking, challenge: PaymentChallenge | null) {
  const currency = booking.currency as Currency;
  const payment = booking.payments.getItems().at(-1);
  const cancellation = refundIfCancelled(booking);
  return {
    bookingId: booking.id,
    status: booking.status,
    price: fromMinor(booking.totalMinor, currency),
    items: booking.items.getItems().map((item) => ({
      ...itemView(item),
      fareRule: item.fareRule,
      confirmationCode: item.confirmationCode ?? null,
    })),
    passengers: booking.passengers.map((p) => ({
      givenName: p.givenName,
      familyName: p.familyName,
      passportNumber: p.passportHint,
      passportCountry: p.passportCountry,
      nationality: p.nationality,
    })),
    contact: { email: booking.contactEmail },
    notes: booking.notes ?? null,
    payment: payment
      ? {
        status: payment.status,
        amount: fromMinor(payment.amountMinor, payment.currency as Currency),
        refunded: fromMinor(payment.refundedMinor, payment.currency as Currency),
        ...(challenge ? { nextAction: { type: challenge.type, clientSecret: challenge.clientSecret } } : {}),
      }
      : null,
    ...(cancellation ? { cancellation } : {}),
    ...(booking.failureCode ? { failure: { code: booking.failureCode, message: booking.failureMessage ?? '' } } : {}),
    createdAt: booking.createdAt.toISOString(),
    updatedAt: booking.updatedAt.toISOString(),
  };
}

/** The traveller's reads and edits of their own bookings; someone else's is a 404, never a 403. */
export function createMyBookingsService(deps: MyBookingsDeps) {
  async function findOwn(userId: string, bookingId: string): Promise<IBooking> {
    const booking = await deps.orm.em.fork().findOne(Booking, { id: bookingId, user: userId }, { populate: ['items', 'payments'] });
    if (!booking) throw new ApiError('NOT_FOUND');
    return booking;
  }

  /**
   * The challenge goes to the owner only while the booking waits for 3-D Secure: its payment row
   * says so (the saga records it) and Stripe still asks for it, so a finished challenge stops showing.
   */
  async function challengeOf(booking: IBooking): Promise<PaymentChallenge | null> {
    const payment = booking.payments.getItems().at(-1);
    if (booking.status !== 'AWAITING_PAYMENT' || payment?.status !== 'REQUIRES_ACTION') return null;
    try {
      return await deps.challenges.challengeOf(payment.paymentIntentId);
    } catch (error) {
      // The booking still reads; the client polls and sees the challenge once Stripe answers.
      deps.log.warn({ bookingId: booking.id, err: { type: (error as { type?: string })?.type } }, 'payment challenge unavailable');
      return null;
    }
  }

  return {
    async view(userId: string, bookingId: string) {
      const booking = await findOwn(userId, bookingId);
      return bookingView(booking, await challengeOf(booking));
    },

    /** The caller's bookings, newest first, one keyset page at a time. */
    async list(userId: string, query: MyBookingsQuery) {
      const after = query.cursor === undefined ? undefined : readBookingCursor(query.cursor);
      const em = deps.orm.em.fork();
      const qb = em
        .createQueryBuilder(Booking, 'b')
        .select(['id', 'status', 'totalMinor', 'currency', 'createdAt', cursorAt()])
        .where({ user: userId })
        .orderBy({ createdAt: QueryOrder.DESC, id: QueryOrder.DESC })
        // One row more than the page says whether there is a next one.
        .limit(query.limit + 1);
      if (query.status) qb.andWhere({ status: query.status });
      if (after) qb.andWhere('(b.created_at, b.id) < (?::timestamptz, ?::uuid)', [after.at, after.id]);
      const rows = await qb.execute<BookingRow[]>('all');
      const page = rows.slice(0, query.limit);
      const items = page.length === 0 ? [] : await em.find(BookingItem, { booking: { $in: page.map((r) => r.id) } }, { orderBy: { offerId: 'asc' } });
      const last = page.at(-1);
      return {
        items: page.map((row) => ({
          bookingId: row.id,
          status: row.status,
          price: fromMinor(row.totalMinor, row.currency as Currency),
          createdAt: new Date(row.createdAt).toISOString(),
          items: items.filter((item) => item.booking.id === row.id).map(itemView),
        })),
        nextCursor: rows.length > query.limit && last ? bookingCursor(last.cursor_at, last.id) : null,
      };
    },

    /** Notes and contact; the phone is encrypted as at creation. Audited without the values. */
    async update(userId: string, bookingId: string, patch: BookingPatch, caller: { ip: string | null; userAgent: string | null }) {
      await findOwn(userId, bookingId);
      const phone = patch.contact ? await deps.cipher.encrypt(userId, patch.contact.phone) : undefined;
      await deps.orm.em.fork().transactional(async (tx) => {
        // Row first, audit lock second, as the saga's transitions take them (the other order deadlocks with them).
        await tx.findOneOrFail(Booking, { id: bookingId, user: userId }, { fields: ['id'], lockMode: LockMode.PESSIMISTIC_WRITE });
        await tx.nativeUpdate(Booking, { id: bookingId }, {
          ...(patch.notes !== undefined ? { notes: patch.notes === '' ? null : patch.notes } : {}),
          ...(patch.contact && phone !== undefined ? { contactEmail: patch.contact.email, contactPhone: phone } : {}),
          updatedAt: new Date(),
        });
        await appendAudit(tx, deps.auditKey, {
          actor: `user:${userId}`,
          action: 'booking.update',
          resource: `booking:${bookingId}`,
          result: 'success',
          ip: caller.ip,
          userAgent: caller.userAgent,
          details: { notes: patch.notes !== undefined, contact: patch.contact !== undefined },
        });
      });
      const booking = await findOwn(userId, bookingId);
      return bookingView(booking, await challengeOf(booking));
    },
  };
}
export type MyBookingsService = ReturnType<typeof createMyBookingsService>;
