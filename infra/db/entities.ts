import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import type { StoredPassenger } from '../../activities/booking.ports.js';
import { DEFAULT_FARE_RULE } from '../../domain/fare-rules.js';

/** The system of record. PII columns hold ciphertext from infra/crypto, never plaintext. */

export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.uuid().primary(),
    email: p.string().length(255).nullable().unique(),
    // The user's data key, wrapped by KMS; destroying it crypto-shreds their PII.
    wrappedDataKey: p.text().nullable(),
    passwordHash: p.text().nullable(), // argon2id
    name: p.string().length(100).nullable(),
    phone: p.text().nullable(), // ciphertext
    role: p.string().length(10).default('user'), // user, support, admin
    emailVerifiedAt: p.datetime().nullable(),
    deletionRequestedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type IUser = InferEntity<typeof User>;

/** A signed-in device. Postgres is the truth; Redis holds its activity stamp (infra/auth/session.store.ts). */
export const Session = defineEntity({
  name: 'Session',
  tableName: 'sessions',
  properties: {
    id: p.uuid().primary(),
    user: () => p.manyToOne(User),
    createdAt: p.datetime().onCreate(() => new Date()),
    lastSeenAt: p.datetime().onCreate(() => new Date()),
    expiresAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
    revokedReason: p.string().length(30).nullable(),
    device: p.string().length(200),
    ip: p.string().length(64),
  },
});
export type ISession = InferEntity<typeof Session>;

/** A refresh token by its SHA-256: spent on use, and a spent one coming back revokes its session. */
export const RefreshToken = defineEntity({
  name: 'RefreshToken',
  tableName: 'refresh_tokens',
  properties: {
    tokenHash: p.string().length(64).primary(),
    session: () => p.manyToOne(Session),
    createdAt: p.datetime().onCreate(() => new Date()),
    expiresAt: p.datetime(),
    spentAt: p.datetime().nullable(),
    // What it was exchanged for, so a second tab within the grace gets the same successor (infra/auth/session.store.ts).
    successorHash: p.string().length(64).nullable(),
    successorSealed: p.text().nullable(),
  },
});

/** E-mail verification and password-reset tokens, by their SHA-256; each works once. */
export const OneTimeToken = defineEntity({
  name: 'OneTimeToken',
  tableName: 'one_time_tokens',
  properties: {
    tokenHash: p.string().length(64).primary(),
    user: () => p.manyToOne(User),
    purpose: p.string().length(20), // verify-email, password-reset
    createdAt: p.datetime().onCreate(() => new Date()),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
    // A signup's credentials, applied only when its own link is confirmed with its own password.
    pendingPasswordHash: p.text().nullable(),
    pendingName: p.string().length(100).nullable(),
    pendingPhone: p.text().nullable(), // ciphertext
  },
});

/** Mail waiting for, or past, delivery by the notification activity. */
export const OutboxMessage = defineEntity({
  name: 'OutboxMessage',
  tableName: 'outbox',
  properties: {
    id: p.uuid().primary(),
    recipient: p.string().length(255),
    template: p.string().length(40),
    subject: p.string().length(200),
    body: p.text().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    deliveredAt: p.datetime().nullable(),
    transport: p.string().length(10).nullable(),
    attempts: p.integer().default(0),
  },
});
export type IOutboxMessage = InferEntity<typeof OutboxMessage>;

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

/** A passenger as stored (birth date and passport number are ciphertext), with a masked hint for display. */
export interface EncryptedPassenger extends StoredPassenger {
  passportHint: string; // masked: all but the last 3 characters are '*'
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
    fareRule: p.string().length(20).default(DEFAULT_FARE_RULE),
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

/** A disagreement the reconciler found between provider, Stripe, Postgres and workflow (migration 0011). */
export const ReconciliationCase = defineEntity({
  name: 'ReconciliationCase',
  tableName: 'reconciliation_cases',
  properties: {
    id: p.uuid().primary(),
    booking: () => p.manyToOne(Booking),
    kind: p.string().length(30), // domain/reconciliation.ts CASE_KINDS
    // Ids, statuses and amounts only: never passenger or contact data.
    evidence: p.json<Record<string, string | number | boolean | null>>(),
    openedAt: p.datetime(),
    lastSeenAt: p.datetime(),
    resolvedAt: p.datetime().nullable(),
    resolution: p.string().length(500).nullable(),
    resolvedBy: p.string().length(200).nullable(),
  },
});
export type IReconciliationCase = InferEntity<typeof ReconciliationCase>;

export const entities = [User, Session, RefreshToken, OneTimeToken, OutboxMessage, Booking, BookingItem, Payment, WebhookEvent, AuditEntry, ReconciliationCase];
