import { BookingFailure } from '../../domain/errors.js';
import { fromMinor, type Currency } from '../../domain/money.js';
import { isFareRule } from '../../domain/fare-rules.js';
import type { FlightSearch, Offer } from '../../domain/booking.schemas.js';
import type { ProviderClient, ProviderHold } from '../../activities/booking.ports.js';
import { providerCall, ProviderUnavailableError } from './provider-http.js';

interface WireHold {
  hold_id: string;
  state: ProviderHold['state'];
  expires_at: string;
  total_minor: number;
  currency: string;
  confirmation_code: string | null;
}

/**
 * Adapter for the flight supplier's API (snake_case, minor units) at SANDBOX_PROVIDER_URL; locally the
 * development sandbox (dev/sandbox) serves the same API. Its offers carry the supplier's name, `sandbox`.
 */
export function createFlightProvider(options: { baseUrl: string; timeoutMs: number; name?: string }): ProviderClient {
  const name = options.name ?? 'sandbox';
  // Our offer ids name their provider ("sandbox:SBX-…"), so a booking finds its way back.
  const prefix = `${name}:`;
  const wireId = (offerId: string) => {
    if (!offerId.startsWith(prefix)) throw new BookingFailure('OFFER_NOT_FOUND', 'The offer is not from this provider.');
    return offerId.slice(prefix.length);
  };

  const call = providerCall({ name, baseUrl: options.baseUrl, timeoutMs: options.timeoutMs });

  const toHold = (wire: WireHold): ProviderHold => ({
    holdId: wire.hold_id,
    state: wire.state,
    expiresAt: wire.expires_at,
    totalMinor: wire.total_minor,
    currency: wire.currency,
  });

  function refuse(status: number, what: string): never {
    if (status === 404) throw new BookingFailure('OFFER_NOT_FOUND', `${what}: offer not found`);
    if (status === 410) throw new BookingFailure('OFFER_EXPIRED', `${what}: offer expired`);
    if (status === 409) throw new BookingFailure('SOLD_OUT', `${what}: sold out`);
    if (status === 422) throw new BookingFailure('PROVIDER_REJECTED', `${what}: rejected by ${name}`);
    throw new ProviderUnavailableError(`${what}: unexpected status ${status}`);
  }

  return {
    name,
    kinds: ['flight'],
    kindOf: () => 'flight',
    async searchFlights(query: FlightSearch, signal?: AbortSignal): Promise<Offer[]> {
      const params = new URLSearchParams({
        from: query.origin,
        to: query.destination,
        date: query.departureDate,
        cabin: query.cabin,
        seats: String(query.adults),
      });
      const { status, data } = await call<{ data: Array<Record<string, string | number>> }>('GET', `/v1/flights?${params}`, undefined, signal);
      if (status !== 200) refuse(status, 'search');
      return data.data.map((o) => ({
        offerId: `${prefix}${String(o.offer_id)}`,
        provider: name,
        kind: 'flight' as const,
        price: fromMinor(Number(o.fare_minor), o.currency as Currency),
        expiresAt: String(o.valid_until),
        details: {
          flightNumber: o.flight_number,
          origin: o.from,
          destination: o.to,
          departsAt: o.departs_at,
          arrivesAt: o.arrives_at,
          cabin: o.cabin,
          seatsLeft: o.seats_left,
          fareRule: o.fare_rule,
        },
      }));
    },
    async reprice(offerId) {
      const { status, data } = await call<{
        fare_minor_per_seat: number;
        currency: string;
        seats_left: number;
        valid_until: string;
        fare_rule: string;
      }>(
        'GET',
        `/v1/offers/${encodeURIComponent(wireId(offerId))}`,
      );
      if (status !== 200) refuse(status, 'reprice');
      return {
        priceMinor: data.fare_minor_per_seat,
        currency: data.currency,
        seatsLeft: data.seats_left,
        expiresAt: data.valid_until,
        // An unknown rule refunds nothing rather than too much.
        fareRule: isFareRule(data.fare_rule) ? data.fare_rule : 'SAVER',
      };
    },
    async hold(offerId, seats, reference) {
      const { status, data } = await call<WireHold>('POST', '/v1/holds', { offer_id: wireId(offerId), seats, reference });
      if (status !== 200 && status !== 201) refuse(status, 'hold');
      return toHold(data);
    },
    async findHold(reference) {
      const { data } = await call<{ data: WireHold[] }>('GET', `/v1/holds?reference=${encodeURIComponent(reference)}`);
      const found = data.data[0];
      return found ? toHold(found) : undefined;
    },
    // Ticketing takes the full manifest (APIS data); only the confirmation code comes back out.
    async confirm(holdId, travellers) {
      const passengers = travellers.map((t) => ({
        given_name: t.givenName,
        family_name: t.familyName,
        date_of_birth: t.dateOfBirth,
        passport_number: t.passportNumber,
        passport_country: t.passportCountry,
        nationality: t.nationality,
      }));
      const { status, data } = await call<WireHold>('POST', `/v1/holds/${encodeURIComponent(holdId)}/confirm`, { passengers });
      if (status !== 200) refuse(status, 'confirm');
      return { confirmationCode: data.confirmation_code ?? '' };
    },
    async releaseOrCancel(holdId) {
      const release = await call<WireHold>('POST', `/v1/holds/${encodeURIComponent(holdId)}/release`);
      if (release.status === 200 || release.status === 404) return;
      if (release.status === 409) {
        const cancel = await call<WireHold>('POST', `/v1/holds/${encodeURIComponent(holdId)}/cancel`);
        if (cancel.status === 200) return;
        throw new ProviderUnavailableError(`cancel answered ${cancel.status}`);
      }
      throw new ProviderUnavailableError(`release answered ${release.status}`);
    },
  };
}
