/** The booking's life, as architecture.md "The booking saga" names it. */
export const BOOKING_STATUSES = [
  'PENDING',
  'HELD',
  'AWAITING_PAYMENT',
  'CONFIRMED',
  'FAILED',
  'EXPIRED',
  'CANCELLED',
  'REFUNDED',
  // An undo keeps failing: the saga still retries it, and operators are told.
  'NEEDS_ATTENTION',
] as const;
export type BookingStatus = (typeof BOOKING_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<BookingStatus> = new Set([
  'CONFIRMED',
  'FAILED',
  'EXPIRED',
  'CANCELLED',
  'REFUNDED',
]);

const TRANSITIONS: Readonly<Record<BookingStatus, readonly BookingStatus[]>> = {
  PENDING: ['HELD', 'FAILED', 'CANCELLED', 'EXPIRED', 'NEEDS_ATTENTION'],
  HELD: ['AWAITING_PAYMENT', 'CONFIRMED', 'FAILED', 'CANCELLED', 'EXPIRED', 'NEEDS_ATTENTION'],
  AWAITING_PAYMENT: ['CONFIRMED', 'FAILED', 'CANCELLED', 'EXPIRED', 'NEEDS_ATTENTION'],
  NEEDS_ATTENTION: ['FAILED', 'CANCELLED', 'EXPIRED'],
  CONFIRMED: ['CANCELLED', 'REFUNDED'],
  FAILED: [],
  EXPIRED: [],
  CANCELLED: ['REFUNDED'],
  REFUNDED: [],
};

export function canTransition(from: BookingStatus, to: BookingStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isTerminal(status: BookingStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}
