import type { FlightSearch, HotelSearch, Offer, OfferKind, Passenger } from '../domain/booking.schemas.js';
import type { FareRule } from '../domain/fare-rules.js';

/**
 * A supplier of flights or rooms. Business refusals throw BookingFailure; faults throw plain errors.
 * For a room, a "seat" is a guest: `reprice` quotes per guest and `hold` books for `seats` guests.
 */
export interface ProviderClient {
  readonly name: string;
  /** What it sells: search asks a provider only for these kinds, through the matching method. */
  readonly kinds: readonly OfferKind[];
  searchFlights?(query: FlightSearch, signal?: AbortSignal): Promise<Offer[]>;
  searchHotels?(query: HotelSearch, signal?: AbortSignal): Promise<Offer[]>;
  /** The kind of one of this provider's offers. */
  kindOf(offerId: string): OfferKind;
  reprice(offerId: string): Promise<{ priceMinor: number; currency: string; seatsLeft: number; expiresAt: string; fareRule: FareRule }>;
  /** `reference` is our idempotency key: the same reference returns the same hold. */
  hold(offerId: string, seats: number, reference: string): Promise<ProviderHold>;
  findHold(reference: string): Promise<ProviderHold | undefined>;
  /**
   * Tickets or commits a hold for these travellers, in plaintext: each adapter sends only what its
   * supplier needs, and returns nothing of them.
   */
  confirm(holdId: string, travellers: readonly Passenger[]): Promise<{ confirmationCode: string }>;
  /** Releases an unconfirmed hold, or cancels a confirmed one; idempotent. */
  releaseOrCancel(holdId: string): Promise<void>;
}

export interface ProviderHold {
  holdId: string;
  state: 'HELD' | 'CONFIRMED' | 'RELEASED' | 'CANCELLED' | 'EXPIRED';
  expiresAt: string;
  totalMinor: number;
  currency: string;
}

export interface Authorization {
  paymentIntentId: string;
  /**
   * `requires_capture`: the funds are held, the one status the saga tickets on. `requires_action`:
   * not (yet) authorized, for 3-D Secure or a bank still processing; the saga waits for a webhook
   * and reads the PaymentIntent's status again. A decline is thrown as PAYMENT_DECLINED.
   */
  status: 'requires_capture' | 'requires_action';
  /** Until when the held funds can be captured (ISO 8601). */
  captureBefore?: string;
}

/** Card payments with manual capture. Every call carries an idempotency key. */
export interface PaymentGateway {
  authorize(input: {
    amountMinor: number;
    currency: string;
    paymentMethodId: string;
    idempotencyKey: string;
    metadata: Record<string, string>;
  }): Promise<Authorization>;
  /** Creates the PaymentIntent unconfirmed: nothing is held until `confirmIntent`. */
  createIntent(input: {
    amountMinor: number;
    currency: string;
    paymentMethodId: string;
    idempotencyKey: string;
    metadata: Record<string, string>;
  }): Promise<{ paymentIntentId: string }>;
  /** Confirms a created PaymentIntent (authorizes the card); an already confirmed one reports its outcome. */
  confirmIntent(paymentIntentId: string, idempotencyKey: string): Promise<Authorization>;
  capture(paymentIntentId: string, idempotencyKey: string): Promise<void>;
  /**
   * Cancels an uncaptured PaymentIntent; a no-op when it is already cancelled. 'captured' when it
   * was captured after all (then nothing is done: only a refund gives the money back).
   */
  void(paymentIntentId: string, idempotencyKey: string): Promise<'voided' | 'captured'>;
  status(paymentIntentId: string): Promise<string>;
  /**
   * Refunds part or all of a captured PaymentIntent, once per key (also after Stripe forgot the key)
   * and never beyond what is left; answers the PaymentIntent's refunded total afterwards.
   */
  refund(paymentIntentId: string, amountMinor: number, idempotencyKey: string): Promise<{ refundedMinor: number }>;
}

/** A passenger as stored: birth date and passport number are field-encrypted under the booking user's data key. */
export interface StoredPassenger {
  givenName: string;
  familyName: string;
  dateOfBirth: string;
  passportNumber: string;
  passportCountry: string;
  nationality: string;
}

/** What `FieldDecrypter.decrypt` rejects with, as `code`, once the user's data key has been destroyed (erasure). */
export const DATA_KEY_DESTROYED = 'DATA_KEY_DESTROYED';

/** Opens a user's field-encrypted PII (infra/crypto/field-cipher). */
export interface FieldDecrypter {
  decrypt(userId: string, ciphertext: string): Promise<string>;
}

/** Whom the audit trail names for a change a workflow made: `system:booking-saga` unless said. */
export type SystemActor = `system:${string}`;

/** The booking rows the saga keeps current. */
export interface BookingRepository {
  /**
   * Moves the booking to `status` if domain/booking-transitions.ts allows it from where the row is;
   * true when it moved or was there already, false (nothing written) when refused. `from`, when
   * given, narrows the statuses the row may move from to those the caller can have left (the saga's
   * local CONFIRMED: never over a status another workflow set meanwhile).
   */
  setStatus(
    bookingId: string,
    status: string,
    options?: { failure?: { code: string; message: string }; from?: readonly string[]; actor?: SystemActor },
  ): Promise<boolean>;
  setPricing(
    bookingId: string,
    items: ReadonlyArray<{ offerId: string; priceMinor: number; fareRule: FareRule }>,
    totalMinor: number,
  ): Promise<void>;
  /** Only forward, as domain/booking-transitions.ts allows: a refused change writes nothing. */
  updateItem(
    bookingId: string,
    offerId: string,
    patch: { state: string; holdId?: string; holdExpiresAt?: Date; confirmationCode?: string },
  ): Promise<void>;
  /** Only forward, as domain/booking-transitions.ts allows: a refused change writes nothing. */
  recordPayment(
    bookingId: string,
    payment: { paymentIntentId: string; status: string; amountMinor: number; currency: string },
    actor?: SystemActor,
  ): Promise<void>;
  findPaymentIntentId(bookingId: string): Promise<string | undefined>;
  /** What re-pricing settled for one item (setPricing): the amount the saga will charge for it. */
  pricedItem(bookingId: string, offerId: string): Promise<{ priceMinor: number; currency: string }>;
  /** What cancelling a confirmed booking needs to know. */
  loadForCancellation(bookingId: string): Promise<{
    workflowId: string;
    status: string;
    failureCode?: string;
    currency: string;
    items: Array<{ offerId: string; provider: string; priceMinor: number; fareRule: FareRule; state: string }>;
    paymentIntentId?: string;
  }>;
  recordRefund(bookingId: string, paymentIntentId: string, refundedMinor: number, actor?: SystemActor): Promise<void>;
  /**
   * Records Stripe's refunded total for the payment (never lowering it); REFUNDED once it covers the
   * payment. Says whether it is fully refunded now (an operator's partial refunds add up).
   */
  recordRefundedTotal(bookingId: string, paymentIntentId: string, refundedMinor: number): Promise<{ fully: boolean }>;
  /** The booking's passengers, still encrypted, and whose data key opens them; none once erased. */
  loadPassengers(bookingId: string): Promise<{ userId: string; passengers: StoredPassenger[] }>;
}
