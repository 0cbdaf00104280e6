import type { StoredPassenger } from '../activities/booking.ports.js';
import type { AuditEvent } from '../domain/audit-event.js';
import type { BookingStatus } from '../domain/booking-status.js';

/**
 * The API's port to stored bookings (infra/db/booking-records.store.ts implements it): plain records in,
 * plain records out, so no route or service holds an ORM entity.
 */

export interface BookingItemRecord {
  offerId: string;
  provider: string;
  kind: string;
  priceMinor: number;
  currency: string;
  state: string;
  fareRule: string;
  confirmationCode: string | null;
}

export interface PaymentRecord {
  paymentIntentId: string;
  status: string;
  amountMinor: number;
  refundedMinor: number;
  currency: string;
}

/** A booking as stored: passengers' birth dates and passport numbers and the contact phone are ciphertext. */
export interface BookingRecord {
  id: string;
  userId: string;
  workflowId: string;
  requestHash: string;
  status: string;
  totalMinor: number;
  currency: string;
  passengers: ReadonlyArray<StoredPassenger & { passportHint: string }>;
  contactEmail: string;
  contactPhone: string;
  notes: string | null;
  failureCode: string | null;
  failureMessage: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** By offer id. */
  items: readonly BookingItemRecord[];
  /** Oldest first. */
  payments: readonly PaymentRecord[];
}

/** What a new booking is made of: its row (PENDING) and one item per offer. */
export interface NewBooking {
  id: string;
  userId: string;
  workflowId: string;
  idempotencyKey: string;
  requestHash: string;
  totalMinor: number;
  currency: string;
  passengers: ReadonlyArray<StoredPassenger & { passportHint: string }>;
  contactEmail: string;
  contactPhone: string;
  notes: string | null;
  items: ReadonlyArray<Pick<BookingItemRecord, 'offerId' | 'provider' | 'kind' | 'priceMinor' | 'currency'>>;
}

/** One row of a keyset page of bookings, newest first; `cursorAt` is its creation time at Postgres's microseconds. */
export interface BookingPageRow {
  id: string;
  userId: string;
  status: string;
  totalMinor: number;
  currency: string;
  failureCode: string | null;
  createdAt: Date;
  updatedAt: Date;
  cursorAt: string;
  items: ReadonlyArray<Pick<BookingItemRecord, 'offerId' | 'provider' | 'kind' | 'priceMinor' | 'currency' | 'state'>>;
}

export interface BookingPageQuery {
  /** Only this user's bookings; every user's when absent (operators). */
  userId?: string;
  status?: BookingStatus;
  /** The last row of the previous page. */
  after?: { at: string; id: string };
  /** Rows to read: a page and one more, which says whether there is a next page. */
  rows: number;
}

export interface BookingRecords {
  /** The user's booking, or null (someone else's is as missing as an unknown one). */
  findOwn(userId: string, bookingId: string): Promise<BookingRecord | null>;
  findByIdempotencyKey(userId: string, idempotencyKey: string): Promise<BookingRecord | null>;
  /** Inserts it with its items; 'duplicate' when a booking under the same Idempotency-Key committed first. */
  create(booking: NewBooking): Promise<BookingRecord | 'duplicate'>;
  page(query: BookingPageQuery): Promise<BookingPageRow[]>;
  /** Notes and contact of the user's booking, with its audit event in the same transaction. */
  update(userId: string, bookingId: string, changes: { notes?: string | null; contact?: { email: string; phone: string } }, audit: AuditEvent): Promise<void>;
}
