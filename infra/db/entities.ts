import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** The system of record. PII columns hold ciphertext from infra/crypto, never plaintext. */

export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.uuid().primary(),
    email: p.string().length(255).nullable().unique(),
    // The user's data key, wrapped by KMS; destroying it crypto-shreds their PII.
    wrappedDataKey: p.text().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type IUser = InferEntity<typeof User>;

export const Booking = defineEntity({
  name: 'Booking',
  tableName: 'bookings',
  uniques: [{ properties: ['user', 'idempotencyKey'] }],
  properties: {
    id: p.uuid().primary(),
    user: () => p.manyToOne(User),
    workflowId: p.string().length(200).unique(),
    idempotencyKey: p.uuid(),
    // SHA-256 of the canonical request body: the same key with another body is refused.
    requestHash: p.string().length(64),
    status: p.string().length(20),
    totalMinor: p.integer(),
    currency: p.string().length(3),
    passengers: p.json<EncryptedPassenger[]>(),
    contactEmail: p.string().length(255),
    contactPhone: p.text(), // ciphertext
    notes: p.text().nullable(),
    failureCode: p.string().length(40).nullable(),
    failureMessage: p.text().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
    items: () => p.oneToMany(BookingItem).mappedBy('booking'),
    payments: () => p.oneToMany(Payment).mappedBy('booking'),
  },
});
export type IBooking = InferEntity<typeof Booking>;

export interface EncryptedPassenger {
  givenName: string;
  familyName: string;
  dateOfBirth: string; // ciphertext
  passportNumber: string; // ciphertext
  passportHint: string; // masked: all but the last 3 characters are '*'
  passportCountry: string;
  nationality: string;
}

export const BookingItem = defineEntity({
  name: 'BookingItem',
  tableName: 'booking_items',
  uniques: [{ properties: ['booking', 'offerId'] }],
  properties: {
    id: p.uuid().primary(),
    booking: () => p.manyToOne(Booking),
    offerId: p.string().length(200),
    provider: p.string().length(40),
    kind: p.string().length(10),
    priceMinor: p.integer(),
    currency: p.string().length(3),
    holdId: p.string().length(100).nullable(),
    holdExpiresAt: p.datetime().nullable(),
    state: p.string().length(20), // PENDING, HELD, CONFIRMED, RELEASED, CANCELLED
    fareRule: p.string().length(20).default('SAVER'), // domain/fare-rules.ts
    confirmationCode: p.string().length(40).nullable(),
  },
});
export type IBookingItem = InferEntity<typeof BookingItem>;

export const Payment = defineEntity({
  name: 'Payment',
  tableName: 'payments',
  properties: {
    id: p.uuid().primary(),
    booking: () => p.manyToOne(Booking),
    paymentIntentId: p.string().length(100).unique(),
    status: p.string().length(30), // REQUIRES_ACTION, AUTHORIZED, CAPTURED, VOIDED, REFUNDED
    amountMinor: p.integer(),
    refundedMinor: p.integer().default(0),
    currency: p.string().length(3),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type IPayment = InferEntity<typeof Payment>;

/** Webhook deliveries already handled: each event id acts once. */
export const WebhookEvent = defineEntity({
  name: 'WebhookEvent',
  tableName: 'webhook_events',
  properties: {
    id: p.string().length(255).primary(),
    source: p.string().length(20),
    type: p.string().length(100),
    receivedAt: p.datetime().onCreate(() => new Date()),
  },
});

/** One row of the tamper-evident audit log (infra/audit): append-only, each row MACed over its predecessor. */
export const AuditEntry = defineEntity({
  name: 'AuditEntry',
  tableName: 'audit_log',
  properties: {
    seq: p.bigint('string').primary().autoincrement(),
    occurredAt: p.datetime(),
    actor: p.string().length(200),
    action: p.string().length(100),
    resource: p.string().length(200),
    result: p.string().length(40),
    ip: p.string().length(64).nullable(),
    userAgent: p.string().length(400).nullable(),
    details: p.json<Record<string, string | number | boolean | null>>(),
    prevMac: p.string().length(64),
    mac: p.string().length(64),
  },
});
export type IAuditEntry = InferEntity<typeof AuditEntry>;

export const entities = [User, Booking, BookingItem, Payment, WebhookEvent, AuditEntry];
