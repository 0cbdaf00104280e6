import type { components, paths } from './api/client';

export type Offer = components['schemas']['Offer'];
/** A traveller as POST /bookings takes one (from the contract, so a field change breaks the build here). */
export type PassengerDraft = NonNullable<paths['/api/v1/bookings']['post']['requestBody']>['content']['application/json']['passengers'][number];

/**
 * The booking being made, kept in memory only (never in storage: it holds passport numbers), so that
 * paying again with another card or signing in again mid-flow does not ask for the travellers twice.
 */
export const draft: {
  offer?: Offer;
  travellers: number;
  passengers: PassengerDraft[];
  contact: { email: string; phone: string };
  notes: string;
} = { travellers: 1, passengers: [], contact: { email: '', phone: '' }, notes: '' };

export const emptyPassenger = (): PassengerDraft => ({
  givenName: '', familyName: '', dateOfBirth: '', passportNumber: '', passportCountry: '', nationality: '',
});
