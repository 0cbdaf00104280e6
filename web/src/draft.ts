import type { components, paths } from './api/client';

export type Offer = components['schemas']['Offer'];
/** A traveller as POST /bookings takes one (from the contract, so a field change breaks the build here). */
export type PassengerDraft = NonNullable<paths['/api/v1/bookings']['post']['requestBody']>['content']['application/json']['passengers'][number];

/**
 * A payment sent without a definitive answer (the answer was lost, or the session lapsed on the way).
 * Paying again for its offer goes under the same Idempotency-Key whatever else changed, so the API
 * answers with the booking it may have made, or refuses a different request under that key (422),
 * instead of making a second. The same request with the same card is sent again exactly as it was.
 */
export interface PendingPayment {
  offerId: string;
  /** The request and the card (brand, last 4 digits, expiry) last sent. */
  attempt: string;
  idempotencyKey: string;
  paymentMethodId: string;
}

interface Draft {
  /** Whose it is: the user signed in when it was started, or the first to sign in after. */
  owner?: string;
  offer?: Offer;
  travellers: number;
  passengers: PassengerDraft[];
  contact: { email: string; phone: string };
  notes: string;
  payment?: PendingPayment;
}

const empty = (): Draft => ({ travellers: 1, passengers: [], contact: { email: '', phone: '' }, notes: '' });

/**
 * The booking being made, kept in memory only (never in storage: it holds passport numbers), so that
 * paying again with another card or signing in again mid-flow does not ask for the travellers twice.
 */
export const draft: Draft = empty();

/** Drops the booking being made: at logout, or when someone else signs in on this browser. */
export function forgetDraft() {
  delete draft.owner;
  delete draft.offer;
  delete draft.payment;
  Object.assign(draft, empty());
}

/**
 * The draft is its owner's alone: a session that lapsed keeps it for the same user, another user never
 * sees it. A draft nobody owned keeps only the offer chosen before signing in (no one's details).
 */
export function claimDraft(userId: string) {
  if (draft.owner !== undefined && draft.owner !== userId) forgetDraft();
  if (draft.owner === undefined) {
    const { offer, travellers } = draft;
    forgetDraft();
    if (offer) Object.assign(draft, { offer, travellers, passengers: Array.from({ length: travellers }, emptyPassenger) });
  }
  draft.owner = userId;
}

export const emptyPassenger = (): PassengerDraft => ({
  givenName: '', familyName: '', dateOfBirth: '', passportNumber: '', passportCountry: '', nationality: '',
});
