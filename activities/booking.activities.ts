import { Context } from '@temporalio/activity';
import type { Passenger } from '../domain/booking.schemas.js';
import { BookingFailure } from '../domain/errors.js';
import type { FareRule } from '../domain/fare-rules.js';
import {
  DATA_KEY_DESTROYED,
  type Authorization,
  type BookingRepository,
  type FieldDecrypter,
  type PaymentGateway,
  type ProviderClient,
  type SystemActor,
} from './booking.ports.js';

export interface BookingActivityDeps {
  bookings: BookingRepository;
  providers: ReadonlyMap<string, ProviderClient>;
  payments: PaymentGateway;
  priceTolerancePercent: number;
  /** Opens the passengers' PII for the one call that hands it to a provider. */
  cipher: FieldDecrypter;
}

export interface OfferRef {
  offerId: string;
  provider: string;
}
export interface StepInput {
  bookingId: string;
  workflowId: string;
}
export interface PaymentInput extends StepInput {
  amountMinor: number;
  currency: string;
  paymentMethodId: string;
}

/** Idempotency keys derive from the workflow id and the step, so every retry reuses them. */
export const stepKey = (workflowId: string, step: string) => `${workflowId}:${step}`;
export const holdReference = (workflowId: string, offerId: string) => stepKey(workflowId, `hold:${offerId}`);

// setBookingStatus serves every workflow that moves a booking: the audit trail names the one that asked.
const WORKFLOW_ACTORS: ReadonlyMap<string, SystemActor> = new Map([
  ['bookingWorkflow', 'system:booking-saga'],
  ['cancellationWorkflow', 'system:cancellation'],
  ['refundWorkflow', 'system:refund'],
]);

function callingWorkflow(): SystemActor | undefined {
  try {
    const type = Context.current().info.workflowType ?? 'unknown-workflow';
    return WORKFLOW_ACTORS.get(type) ?? `system:${type}`;
  } catch {
    return undefined; // called outside a worker (the in-process baseline of the benchmarks, a unit test)
  }
}

/** Activities of the booking saga; each side effect has its undo beside it. */
export function createBookingActivities(deps: BookingActivityDeps) {
  const provider = (name: string): ProviderClient => {
    const found = deps.providers.get(name);
    if (!found) throw new BookingFailure('OFFER_NOT_FOUND', `unknown provider ${name}`);
    return found;
  };

  const erased = () =>
    new BookingFailure('PASSENGER_DATA_ERASED', "The travellers' details were erased before the booking could be ticketed.");

  // Plaintext exists only inside confirmHold: never returned, thrown or logged, so no history holds it.
  async function travellersOf(bookingId: string): Promise<Passenger[]> {
    const { userId, passengers } = await deps.bookings.loadPassengers(bookingId);
    if (passengers.length === 0) throw erased();
    const open = (ciphertext: string) =>
      deps.cipher.decrypt(userId, ciphertext).catch((error: unknown) => {
        // A destroyed key never comes back: retrying would only delay the undo.
        if ((error as { code?: unknown } | null)?.code === DATA_KEY_DESTROYED) throw erased();
        throw error;
      });
    return Promise.all(
      passengers.map(async (p) => ({
        givenName: p.givenName,
        familyName: p.familyName,
        dateOfBirth: await open(p.dateOfBirth),
        passportNumber: await open(p.passportNumber),
        passportCountry: p.passportCountry,
        nationality: p.nationality,
      })),
    );
  }

  // The same key and parameters every time: Stripe answers a repeat with the first PaymentIntent.
  const authorize = (input: PaymentInput) =>
    deps.payments.authorize({
      amountMinor: input.amountMinor,
      currency: input.currency,
      paymentMethodId: input.paymentMethodId,
      idempotencyKey: stepKey(input.workflowId, 'authorize'),
      metadata: { bookingId: input.bookingId, workflowId: input.workflowId },
    });

  // Unconfirmed, under one key: asking again (a retry, or the undo) finds the same PaymentIntent and never holds money.
  const createIntent = (input: PaymentInput) =>
    deps.payments.createIntent({
      amountMinor: input.amountMinor,
      currency: input.currency,
      paymentMethodId: input.paymentMethodId,
      idempotencyKey: stepKey(input.workflowId, 'create-payment-intent'),
      metadata: { bookingId: input.bookingId, workflowId: input.workflowId },
    });

  /** The payment row after an authorization: waiting for 3-D Secure (or the bank), or authorized. */
  async function recordAuthorization(input: PaymentInput, authorization: Authorization): Promise<Authorization> {
    await deps.bookings.recordPayment(input.bookingId, {
      paymentIntentId: authorization.paymentIntentId,
      status: authorization.status === 'requires_action' ? 'REQUIRES_ACTION' : 'AUTHORIZED',
      amountMinor: input.amountMinor,
      currency: input.currency,
    });
    return authorization;
  }

  return {
    async repriceOffers(input: {
      bookingId: string;
      seats: number;
      offers: ReadonlyArray<OfferRef & { expectedMinor: number; currency: string }>;
    }): Promise<{ items: Array<OfferRef & { priceMinor: number; fareRule: FareRule }>; totalMinor: number; currency: string }> {
      // The saga's first step claims its row (PENDING → STARTED; already STARTED on a retry). A row the
      // stalled-work sweep failed first is never held or charged: the sweep told its owner so.
      if (!(await deps.bookings.setStatus(input.bookingId, 'STARTED'))) {
        throw new BookingFailure('NOT_STARTED', 'The booking was closed before it could start; nothing was held or charged.');
      }
      const items = await Promise.all(
        input.offers.map(async (offer) => {
          const quote = await provider(offer.provider).reprice(offer.offerId);
          const priceMinor = quote.priceMinor * input.seats;
          if (quote.seatsLeft < input.seats) throw new BookingFailure('SOLD_OUT', 'Not enough seats are left on this offer.');
          const ceiling = Math.floor(offer.expectedMinor * (1 + deps.priceTolerancePercent / 100));
          if (quote.currency !== offer.currency || priceMinor > ceiling) {
            throw new BookingFailure('PRICE_CHANGED', 'The price of an offer has changed since it was shown.');
          }
          return { offerId: offer.offerId, provider: offer.provider, priceMinor, fareRule: quote.fareRule };
        }),
      );
      const totalMinor = items.reduce((sum, item) => sum + item.priceMinor, 0);
      await deps.bookings.setPricing(input.bookingId, items, totalMinor);
      return { items, totalMinor, currency: input.offers[0]?.currency ?? 'EUR' };
    },

    async holdOffer(input: StepInput & OfferRef & { seats: number }): Promise<{ holdId: string; expiresAt: string }> {
      const hold = await provider(input.provider).hold(input.offerId, input.seats, holdReference(input.workflowId, input.offerId));
      if (hold.state !== 'HELD' && hold.state !== 'CONFIRMED') {
        throw new BookingFailure('OFFER_EXPIRED', 'The hold on this offer has lapsed.');
      }
      // The charge is the priced total: a hold for another amount or currency is not what we would pay for.
      // Failing here, before the authorize step, leaves nothing to void; the saga releases the hold.
      const priced = await deps.bookings.pricedItem(input.bookingId, input.offerId);
      if (hold.totalMinor !== priced.priceMinor || hold.currency !== priced.currency) {
        throw new BookingFailure('HOLD_PRICE_MISMATCH', "The supplier's hold does not match the price of the offer.");
      }
      await deps.bookings.updateItem(input.bookingId, input.offerId, {
        state: 'HELD',
        holdId: hold.holdId,
        holdExpiresAt: new Date(hold.expiresAt),
      });
      return { holdId: hold.holdId, expiresAt: hold.expiresAt };
    },

    // Looks the hold up by reference, so it also undoes a hold whose call timed out after succeeding.
    // A hold found CANCELLED was ticketed (only a confirmed hold is cancelled) by a confirm whose
    // answer was lost, and cancelled by an earlier attempt of this undo whose answer was lost too.
    async releaseHold(input: StepInput & OfferRef): Promise<void> {
      const client = provider(input.provider);
      const hold = await client.findHold(holdReference(input.workflowId, input.offerId));
      if (hold) await client.releaseOrCancel(hold.holdId);
      const ticketed = hold?.state === 'CONFIRMED' || hold?.state === 'CANCELLED';
      await deps.bookings.updateItem(input.bookingId, input.offerId, { state: ticketed ? 'CANCELLED' : 'RELEASED' });
    },

    async confirmHold(input: StepInput & OfferRef & { holdId: string }): Promise<{ confirmationCode: string }> {
      const client = provider(input.provider);
      const { confirmationCode } = await client.confirm(input.holdId, await travellersOf(input.bookingId));
      await deps.bookings.updateItem(input.bookingId, input.offerId, { state: 'CONFIRMED', confirmationCode });
      return { confirmationCode };
    },

    // Sagas started before payment-intent-first still authorize in one call (create and confirm).
    async authorizePayment(input: PaymentInput): Promise<Authorization> {
      return recordAuthorization(input, await authorize(input));
    },

    /**
     * Creates the PaymentIntent unconfirmed and records its id before anything can confirm it, so
     * every authorization that can exist has a recorded id for its undo to find.
     */
    async createPaymentIntent(input: PaymentInput): Promise<{ paymentIntentId: string }> {
      const created = await createIntent(input);
      await deps.bookings.recordPayment(input.bookingId, { ...created, status: 'CREATED', amountMinor: input.amountMinor, currency: input.currency });
      return created;
    },

    async confirmPaymentIntent(input: PaymentInput & { paymentIntentId: string }): Promise<Authorization> {
      return recordAuthorization(input, await deps.payments.confirmIntent(input.paymentIntentId, stepKey(input.workflowId, 'confirm-payment-intent')));
    },

    /**
     * Undoes the authorization by the PaymentIntent's id: the one the saga holds, else the one
     * recorded for the booking. None recorded means nothing was ever confirmed (the id is recorded
     * before any confirmation), so nothing was authorized: an undo never replays an authorization.
     * It only asks again for the *unconfirmed* PaymentIntent by its creation key, whose answer may
     * have been lost, so that one is cancelled too and Stripe and Postgres agree. A capture can take
     * effect although every try of it failed to say so: then the undo is a refund.
     */
    async voidPayment(input: PaymentInput & { paymentIntentId?: string }): Promise<'VOIDED' | 'REFUNDED' | 'NONE'> {
      let paymentIntentId = input.paymentIntentId ?? (await deps.bookings.findPaymentIntentId(input.bookingId));
      if (!paymentIntentId) {
        try {
          paymentIntentId = (await createIntent(input)).paymentIntentId;
        } catch (error) {
          if (error instanceof BookingFailure) return 'NONE'; // refused: nothing was created
          throw error;
        }
      }
      if ((await deps.payments.void(paymentIntentId, stepKey(input.workflowId, 'void'))) === 'captured') {
        await deps.payments.refund(paymentIntentId, input.amountMinor, stepKey(input.workflowId, 'undo-refund'));
        await deps.bookings.recordRefund(input.bookingId, paymentIntentId, input.amountMinor);
        return 'REFUNDED';
      }
      await deps.bookings.recordPayment(input.bookingId, {
        paymentIntentId,
        status: 'VOIDED',
        amountMinor: input.amountMinor,
        currency: input.currency,
      });
      return 'VOIDED';
    },

    async paymentStatus(input: { paymentIntentId: string }): Promise<string> {
      return deps.payments.status(input.paymentIntentId);
    },

    async capturePayment(input: StepInput & { paymentIntentId: string; amountMinor: number; currency: string }): Promise<void> {
      await deps.payments.capture(input.paymentIntentId, stepKey(input.workflowId, 'capture'));
      await deps.bookings.recordPayment(input.bookingId, {
        paymentIntentId: input.paymentIntentId,
        status: 'CAPTURED',
        amountMinor: input.amountMinor,
        currency: input.currency,
      });
    },

    /** False when the row's status does not allow this move (domain/booking-transitions.ts): nothing written. */
    async setBookingStatus(input: { bookingId: string; status: string; failure?: { code: string; message: string }; from?: string[] }): Promise<boolean> {
      return deps.bookings.setStatus(input.bookingId, input.status, { failure: input.failure, from: input.from, actor: callingWorkflow() });
    },
  };
}

export type BookingActivities = ReturnType<typeof createBookingActivities>;
