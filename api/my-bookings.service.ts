import type { BookingStatus } from '../domain/booking-status.js';
import type { BookingPatch } from '../domain/booking.schemas.js';
import { isFareRule, refundMinor } from '../domain/fare-rules.js';
import { fromMinor, type Currency } from '../domain/money.js';
import type { FieldCipher } from '../infra/crypto/field-cipher.js';
import type { Logger } from '../infra/logger.js';
import type { ChallengeState, PaymentChallenge } from '../infra/stripe/payment-challenges.js';
import { bookingCursor, readBookingCursor } from './booking-cursor.js';
import type { BookingRecord, BookingRecords } from './booking-records.js';
import { ApiError } from './problem.js';

/** Reads a PaymentIntent's challenge (kind and client secret) while Stripe asks the customer to authenticate, or Stripe's decision. */
export interface PaymentChallenges {
  stateOf(paymentIntentId: string): Promise<ChallengeState>;
}

/** Tells a booking's saga what Stripe decided, as the webhook does (the saga reads the PaymentIntent itself before acting). */
export interface PaymentNews {
  tell(workflowId: string, decided: 'authorized' | 'failed'): Promise<void>;
}

export interface MyBookingsDeps {
  bookings: BookingRecords;
  cipher: FieldCipher;
  challenges: PaymentChallenges;
  news: PaymentNews;
  log: Logger;
}

export interface MyBookingsQuery {
  status?: BookingStatus;
  cursor?: string;
  limit: number;
}

const itemView = (item: { offerId: string; provider: string; kind: string; priceMinor: number; currency: string; state: string }) => ({
  offerId: item.offerId,
  provider: item.provider,
  kind: item.kind,
  price: fromMinor(item.priceMinor, item.currency as Currency),
  state: item.state,
});

/** What a confirmed booking gives back if cancelled now: the same sum the cancellation workflow refunds. */
function refundIfCancelled(booking: BookingRecord) {
  if (booking.status !== 'CONFIRMED') return undefined;
  const minor = booking.items.reduce((sum, item) => sum + refundMinor(isFareRule(item.fareRule) ? item.fareRule : 'SAVER', item.priceMinor), 0);
  return { refund: fromMinor(minor, booking.currency as Currency) };
}

/** The traveller's own view of a booking (docs/api.md "Bookings"): passports masked, no ciphertext. */
export function bookingView(booking: BookingRecord, challenge: PaymentChallenge | null) {
  const currency = booking.currency as Currency;
  const payment = booking.payments.at(-1);
  const cancellation = refundIfCancelled(booking);
  return {
    bookingId: booking.id,
    status: booking.status,
    price: fromMinor(booking.totalMinor, currency),
    items: booking.items.map((item) => ({
      ...itemView(item),
      fareRule: item.fareRule,
      confirmationCode: item.confirmationCode,
    })),
    passengers: booking.passengers.map((p) => ({
      givenName: p.givenName,
      familyName: p.familyName,
      passportNumber: p.passportHint,
      passportCountry: p.passportCountry,
      nationality: p.nationality,
    })),
    contact: { email: booking.contactEmail },
    notes: booking.notes,
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
  async function findOwn(userId: string, bookingId: string): Promise<BookingRecord> {
    const booking = await deps.bookings.findOwn(userId, bookingId);
    if (!booking) throw new ApiError('NOT_FOUND');
    return booking;
  }

  /**
   * The challenge goes to the owner only while the booking waits for 3-D Secure: its payment row
   * says so (the saga records it) and Stripe still asks for it, so a finished challenge stops showing.
   */
  async function challengeOf(booking: BookingRecord): Promise<PaymentChallenge | null> {
    const payment = booking.payments.at(-1);
    if (booking.status !== 'AWAITING_PAYMENT' || payment?.status !== 'REQUIRES_ACTION') return null;
    try {
      const state = await deps.challenges.stateOf(payment.paymentIntentId);
      // Stripe has decided and the saga still waits: its webhook is late or lost (Stripe retries for
      // days; the hold lasts minutes). The owner's poll brings the news, once per Stripe read.
      if (state.decided && state.asked) {
        await deps.news.tell(booking.workflowId, state.decided).catch((error: unknown) => {
          // The next read past the answer's lifetime tells it again.
          deps.log.warn({ bookingId: booking.id, err: { type: (error as { name?: string })?.name } }, 'payment news not delivered');
        });
      }
      return state.challenge;
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
      // One row more than the page says whether there is a next one.
      const rows = await deps.bookings.page({ userId, ...(query.status ? { status: query.status } : {}), ...(after ? { after } : {}), rows: query.limit + 1 });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        items: page.map((row) => ({
          bookingId: row.id,
          status: row.status,
          price: fromMinor(row.totalMinor, row.currency as Currency),
          createdAt: row.createdAt.toISOString(),
          items: row.items.map(itemView),
        })),
        nextCursor: rows.length > query.limit && last ? bookingCursor(last.cursorAt, last.id) : null,
      };
    },

    /** Notes and contact; the phone is encrypted as at creation. Audited without the values. */
    async update(userId: string, bookingId: string, patch: BookingPatch, caller: { ip: string | null; userAgent: string | null }) {
      await findOwn(userId, bookingId);
      const phone = patch.contact ? await deps.cipher.encrypt(userId, patch.contact.phone) : undefined;
      await deps.bookings.update(userId, bookingId, {
        ...(patch.notes !== undefined ? { notes: patch.notes === '' ? null : patch.notes } : {}),
        ...(patch.contact && phone !== undefined ? { contact: { email: patch.contact.email, phone } } : {}),
      }, {
        actor: `user:${userId}`,
        action: 'booking.update',
        resource: `booking:${bookingId}`,
        result: 'success',
        ip: caller.ip,
        userAgent: caller.userAgent,
        details: { notes: patch.notes !== undefined, contact: patch.contact !== undefined },
      });
      const booking = await findOwn(userId, bookingId);
      return bookingView(booking, await challengeOf(booking));
    },
  };
}
export type MyBookingsService = ReturnType<typeof createMyBookingsService>;
