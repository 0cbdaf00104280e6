import type { BookingStatus } from './booking-status.js';
import { stateMachine } from './state-machine.js';

/**
 * Every status change the saga, the cancellation workflow and the stalled-work sweep make, and no
 * other: a write that this table refuses (a walked-away activity attempt, the sweep racing a late
 * saga) changes nothing. Staying in a status is always fine (a retried write).
 */
export const BOOKING_TRANSITIONS = stateMachine<BookingStatus>({
  // HELD, NEEDS_ATTENTION and FAILED straight from PENDING: sagas started before the claim existed.
  // FAILED is also the sweep's NOT_STARTED; CANCELLED a saga cancelled before its first step.
  PENDING: ['STARTED', 'HELD', 'FAILED', 'CANCELLED', 'NEEDS_ATTENTION'],
  STARTED: ['HELD', 'FAILED', 'CANCELLED', 'NEEDS_ATTENTION'],
  HELD: ['AWAITING_PAYMENT', 'CONFIRMED', 'FAILED', 'CANCELLED', 'NEEDS_ATTENTION'],
  AWAITING_PAYMENT: ['CONFIRMED', 'FAILED', 'EXPIRED', 'CANCELLED', 'NEEDS_ATTENTION'],
  // An undo keeps failing; the saga then ends where its undo leads, or (a capture retried past
  // the point of no return) confirmed; a stuck cancellation ends cancelled or refunded.
  NEEDS_ATTENTION: ['FAILED', 'EXPIRED', 'CANCELLED', 'CONFIRMED', 'REFUNDED'],
  // Terminal, except what the cancellation workflow does to a confirmed booking (NEEDS_ATTENTION:
  // a provider cancellation or a refund that keeps failing), and an operator's full refund.
  CONFIRMED: ['CANCELLED', 'NEEDS_ATTENTION', 'REFUNDED'],
  CANCELLED: ['REFUNDED', 'NEEDS_ATTENTION'],
  FAILED: [],
  EXPIRED: [],
  REFUNDED: [],
});

/** A booking item, as its supplier's hold goes. */
export const BOOKING_ITEM_STATES = ['PENDING', 'HELD', 'CONFIRMED', 'RELEASED', 'CANCELLED'] as const;
export type BookingItemState = (typeof BOOKING_ITEM_STATES)[number];

export const BOOKING_ITEM_TRANSITIONS = stateMachine<BookingItemState>({
  // RELEASED from PENDING: the undo of a hold that was never granted; CANCELLED: the undo found it ticketed.
  PENDING: ['HELD', 'RELEASED', 'CANCELLED'],
  HELD: ['CONFIRMED', 'RELEASED', 'CANCELLED'],
  CONFIRMED: ['CANCELLED'],
  // A later look (the late-success sweep) finds the released hold ticketed after all, and cancels it.
  RELEASED: ['CANCELLED'],
  CANCELLED: [],
});

/** A payment row, as its Stripe PaymentIntent goes (manual capture). */
export const PAYMENT_STATES = ['CREATED', 'REQUIRES_ACTION', 'AUTHORIZED', 'CAPTURED', 'VOIDED', 'REFUNDED'] as const;
export type PaymentStatus = (typeof PAYMENT_STATES)[number];

export const PAYMENT_TRANSITIONS = stateMachine<PaymentStatus>({
  // Created unconfirmed: nothing is held until it is confirmed.
  CREATED: ['REQUIRES_ACTION', 'AUTHORIZED', 'VOIDED'],
  // 3-D Secure or a bank still processing; once authorized, the saga captures without recording AUTHORIZED.
  REQUIRES_ACTION: ['AUTHORIZED', 'CAPTURED', 'VOIDED', 'REFUNDED'],
  // REFUNDED without CAPTURED: a capture that took effect though every try of it failed, then undone.
  AUTHORIZED: ['CAPTURED', 'VOIDED', 'REFUNDED'],
  CAPTURED: ['REFUNDED'],
  VOIDED: [],
  REFUNDED: [],
});
