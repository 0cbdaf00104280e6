/** Stable codes of business outcomes; the API, activities and workflows all speak them. */
export const BOOKING_FAILURE_CODES = [
  'PRICE_CHANGED',
  'OFFER_EXPIRED',
  'OFFER_NOT_FOUND',
  'SOLD_OUT',
  'PAYMENT_DECLINED',
  // Stripe refuses the payment method itself (unknown, already used, unusable): retrying cannot help.
  'PAYMENT_METHOD_INVALID',
  'PROVIDER_REJECTED',
  // The travellers' details were erased (their data key destroyed) before the booking was ticketed.
  'PASSENGER_DATA_ERASED',
  // The supplier's hold totals other than the priced amount (or in another currency): nothing is charged.
  'HOLD_PRICE_MISMATCH',
  // The stalled-work sweep closed the booking before its saga could claim it: nothing is held or charged.
  'NOT_STARTED',
] as const;
export type BookingFailureCode = (typeof BOOKING_FAILURE_CODES)[number];

export function isBookingFailureCode(value: unknown): value is BookingFailureCode {
  return typeof value === 'string' && (BOOKING_FAILURE_CODES as readonly string[]).includes(value);
}

/** A business outcome, not a fault: never retried. */
export class BookingFailure extends Error {
  constructor(
    readonly code: BookingFailureCode,
    message: string,
  ) {
    super(message);
    this.name = 'BookingFailure';
  }
}
