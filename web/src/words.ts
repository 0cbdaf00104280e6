/** What each booking status and failure code means, in words a traveller reads. */
export const STATUS_WORDS: Record<string, string> = {
  PENDING: 'We have your booking and are starting on it.',
  STARTED: 'We are checking the price and availability.',
  HELD: 'Your seats are held; we are taking the payment.',
  AWAITING_PAYMENT: 'Waiting for your bank to confirm the payment.',
  CONFIRMED: 'Confirmed. Have a good trip!',
  FAILED: 'This booking did not go through. Nothing was charged.',
  EXPIRED: 'The hold ran out before the payment was confirmed. Nothing was charged.',
  CANCELLED: 'Cancelled.',
  REFUNDED: 'Cancelled and refunded.',
  NEEDS_ATTENTION: 'We are sorting out a problem with this booking; our team has been told.',
};

export const FAILURE_WORDS: Record<string, string> = {
  PAYMENT_DECLINED: 'Your card was declined. Try another card.',
  PAYMENT_METHOD_INVALID: 'This card cannot be used. Try another card.',
  PAYMENT_AUTHENTICATION_FAILED: 'Your bank could not confirm the payment (3-D Secure failed). Try again or use another card.',
  PRICE_CHANGED: 'The price went up since you searched. Search again to see the new price.',
  HOLD_PRICE_MISMATCH: 'The airline or hotel asked for a different price. Search again.',
  SOLD_OUT: 'This offer has sold out. Search again for another one.',
  OFFER_EXPIRED: 'This offer has expired. Search again.',
  OFFER_NOT_FOUND: 'This offer is no longer available. Search again.',
  PROVIDER_REJECTED: 'The airline or hotel refused the booking. Nothing was charged.',
  HOLD_EXPIRED: 'The hold ran out before the payment was confirmed.',
  PROVIDER_UNAVAILABLE: 'The airline or hotel could not be reached. Please try again later.',
  NOT_STARTED: 'The booking could not be started. Please try again.',
  PASSENGER_DATA_ERASED: 'The traveller data was erased with the account.',
};

/** Failures a different card can fix: the booking page offers to pay again with the same travellers. */
export const CARD_FAILURES = new Set(['PAYMENT_DECLINED', 'PAYMENT_METHOD_INVALID', 'PAYMENT_AUTHENTICATION_FAILED']);

export const FARE_RULE_WORDS: Record<string, string> = {
  FLEX: 'Flex fare: cancelling refunds the full price.',
  STANDARD: 'Standard fare: cancelling refunds half the price.',
  SAVER: 'Saver fare: cancelling refunds nothing.',
};

export const TERMINAL = new Set(['CONFIRMED', 'FAILED', 'EXPIRED', 'CANCELLED', 'REFUNDED']);
