import { BookingFailure, type BookingFailureCode } from '../../domain/errors.js';
import { moneySchema, toMinor, type Money } from '../../domain/money.js';
import type { FareRule } from '../../domain/fare-rules.js';
import type { HotelSearch, Offer } from '../../domain/booking.schemas.js';
import type { ProviderClient, ProviderHold } from '../../activities/booking.ports.js';
import { providerCall, ProviderUnavailableError } from './provider-http.js';

interface WireTotal {
  value: string;
  currency: string;
}
interface WireRate {
  rateKey: string;
  hotel: { code: string; name: string; stars: number };
  room: { type: string };
  total: WireTotal;
  validUntil: string;
  cancellationPolicy: string;
}
interface WireReservation {
  id: string;
  status: 'PROVISIONAL' | 'BOOKED' | 'RELEASED' | 'CANCELLED' | 'LAPSED';
  expiresAt: string;
  total: WireTotal;
  voucher: string | null;
}
interface WireFault {
  fault?: { code?: string; message?: string };
}

/** The fault's code when it is code-shaped (SOLD_OUT); anything else may be prose, and is dropped. */
function faultCode(data: unknown): string {
  const code = (data as WireFault | undefined)?.fault?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,39}$/.test(code) ? code : '';
}

// An unknown policy refunds nothing rather than too much.
const FARE_RULE: Readonly<Record<string, FareRule>> = { FREE_CANCELLATION: 'FLEX', PARTIAL: 'STANDARD', NON_REFUNDABLE: 'SAVER' };
const fareRuleOf = (policy: string): FareRule => FARE_RULE[policy] ?? 'SAVER';

const HOLD_STATE: Record<WireReservation['status'], ProviderHold['state']> = {
  PROVISIONAL: 'HELD',
  BOOKED: 'CONFIRMED',
  RELEASED: 'RELEASED',
  CANCELLED: 'CANCELLED',
  LAPSED: 'EXPIRED',
};

// StayBridge's business refusals, by its fault code; anything else is a fault of ours or theirs.
const FAILURE: Readonly<Record<string, BookingFailureCode>> = {
  RATE_NOT_FOUND: 'OFFER_NOT_FOUND',
  RATE_EXPIRED: 'OFFER_EXPIRED',
  RESERVATION_NOT_FOUND: 'OFFER_NOT_FOUND',
  RESERVATION_LAPSED: 'OFFER_EXPIRED',
  SOLD_OUT: 'SOLD_OUT',
  PRICE_CHANGED: 'PRICE_CHANGED',
  OCCUPANCY_EXCEEDED: 'PROVIDER_REJECTED',
  COMMIT_REJECTED: 'PROVIDER_REJECTED',
  RESERVATION_CLOSED: 'PROVIDER_REJECTED',
};

/** Money on StayBridge's wire is a decimal string; a value we cannot represent is its fault, not the guest's. */
function money(total: WireTotal): Money {
  const parsed = moneySchema.safeParse({ amount: total.value, currency: total.currency });
  if (!parsed.success) throw new Error(`staybridge sent an unusable total: ${total.value} ${total.currency}`);
  return parsed.data;
}

/**
 * Adapter for the StayBridge hotel API (camelCase, decimal money, rate keys). A rate is one room
 * for a party; the booking saga counts guests as seats, so re-pricing quotes per guest.
 */
export function createStayBridgeProvider(options: { baseUrl: string; timeoutMs: number; name?: string }): ProviderClient {
  const name = options.name ?? 'staybridge';
  const prefix = `${name}:`;
  const rateKeyOf = (offerId: string) => {
    if (!offerId.startsWith(prefix)) throw new BookingFailure('OFFER_NOT_FOUND', 'The offer is not from this provider.');
    return offerId.slice(prefix.length);
  };
  const call = providerCall({ name, baseUrl: options.baseUrl, timeoutMs: options.timeoutMs });

  // The supplier's message is free text that may quote the guest: it reaches neither the failure
  // (shown to the traveller, kept in Temporal) nor an error; only a code we know or an identifier does.
  function refuse(status: number, data: unknown, what: string): never {
    const code = faultCode(data);
    const failure = FAILURE[code];
    if (failure) throw new BookingFailure(failure, `${what}: ${name} refused (${code})`);
    throw new ProviderUnavailableError(`${name} ${what}: unexpected ${status} ${code}`.trim());
  }

  const toHold = (wire: WireReservation): ProviderHold => {
    const total = money(wire.total);
    return { holdId: wire.id, state: HOLD_STATE[wire.status], expiresAt: wire.expiresAt, totalMinor: toMinor(total), currency: total.currency };
  };

  return {
    name,
    kinds: ['hotel'],
    kindOf: () => 'hotel',
    async searchHotels(query: HotelSearch, signal?: AbortSignal): Promise<Offer[]> {
      const body = {
        destination: { cityCode: query.city },
        stay: { checkIn: query.checkIn, checkOut: query.checkOut },
        occupancy: { adults: query.guests },
      };
      const { status, data } = await call<{ results: WireRate[] }>('POST', '/availability', body, signal);
      if (status !== 200) refuse(status, data, 'search');
      return data.results.map((rate) => ({
        offerId: `${prefix}${rate.rateKey}`,
        provider: name,
        kind: 'hotel' as const,
        price: money(rate.total),
        expiresAt: rate.validUntil,
        details: {
          hotelName: rate.hotel.name,
          hotelCode: rate.hotel.code,
          stars: rate.hotel.stars,
          roomType: rate.room.type,
          checkIn: query.checkIn,
          checkOut: query.checkOut,
          guests: query.guests,
          fareRule: fareRuleOf(rate.cancellationPolicy),
        },
      }));
    },
    async reprice(offerId) {
      const { status, data } = await call<{ rate: WireRate & { occupancy: { adults: number }; room: { maxAdults: number } } }>(
        'GET',
        `/rates/${encodeURIComponent(rateKeyOf(offerId))}`,
      );
      if (status !== 200) refuse(status, data, 'reprice');
      const total = money(data.rate.total);
      const adults = data.rate.occupancy.adults;
      return {
        // StayBridge prices per adult, so this divides evenly; rounding up never under-quotes.
        priceMinor: Math.ceil(toMinor(total) / adults),
        currency: total.currency,
        // How many guests the room takes: availability itself is only known when reserving.
        seatsLeft: data.rate.room.maxAdults,
        expiresAt: data.rate.validUntil,
        fareRule: fareRuleOf(data.rate.cancellationPolicy),
      };
    },
    async hold(offerId, seats, reference) {
      const body = { rateKey: rateKeyOf(offerId), rooms: 1, clientReference: reference, occupancy: { adults: seats } };
      const { status, data } = await call<{ reservation: WireReservation }>('POST', '/reservations', body);
      if (status !== 200 && status !== 201) refuse(status, data, 'hold');
      return toHold(data.reservation);
    },
    async findHold(reference) {
      const { status, data } = await call<{ reservations: WireReservation[] }>(
        'GET',
        `/reservations?clientReference=${encodeURIComponent(reference)}`,
      );
      if (status !== 200) refuse(status, data, 'find hold');
      const found = data.reservations[0];
      return found ? toHold(found) : undefined;
    },
    // A hotel is told who stays, by name, and nothing more: no birth date, no passport.
    async confirm(holdId, travellers) {
      const [lead, ...others] = travellers.map((t) => ({ givenName: t.givenName, familyName: t.familyName }));
      const body = { leadGuest: lead, guests: others };
      const { status, data } = await call<{ reservation: WireReservation }>('POST', `/reservations/${encodeURIComponent(holdId)}/commit`, body);
      if (status !== 200) refuse(status, data, 'confirm');
      return { confirmationCode: data.reservation.voucher ?? '' };
    },
    async releaseOrCancel(holdId) {
      // One call undoes either state; an unknown reservation has nothing left to undo.
      const { status, data } = await call<WireFault>('POST', `/reservations/${encodeURIComponent(holdId)}/void`);
      if (status === 200 || status === 404) return;
      throw new ProviderUnavailableError(`${name} void answered ${status} ${faultCode(data)}`.trim());
    },
  };
}
