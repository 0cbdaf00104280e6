/** The booking's life, as README.md "The booking saga" names it. */
export const BOOKING_STATUSES = [
  'PENDING',
  // Its saga has claimed the row (its first step): from here on the stalled-work sweep leaves it alone.
  'STARTED',
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

export function isTerminal(status: BookingStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}
