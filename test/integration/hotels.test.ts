import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { holdReference } from '../../activities/booking.activities.js';
import { AuditEntry, Booking } from '../../infra/db/entities.js';
import { toMinor, type Money } from '../../domain/money.js';
import type { HotelFaults } from '../../dev/sandbox/hotels.app.js';
import { json, travellerOf, type BookingJson } from '../support/booking-client.js';
import { probesOf } from '../support/probes.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;
let hotelsUrl: string;
const DEADLINE_MS = 1_000;

beforeAll(async () => {
  stack = await startStack({ env: { SEARCH_DEADLINE_MS: String(DEADLINE_MS) } });
  hotelsUrl = stack.config.providers.hotelUrl;
});
afterEach(async () => {
  await setHotelFaults({});
});
afterAll(async () => {
  await stack?.stop();
});

async function setHotelFaults(faults: Partial<HotelFaults>) {
  const response = await fetch(`${hotelsUrl}/_control/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) });
  if (!response.ok) throw new Error(`setting hotel faults failed: ${response.status}`);
}
const hotelRequests = async () => ((await (await fetch(`${hotelsUrl}/_control/stats`)).json()) as { requests: number }).requests;
const reservationsFor = async (reference: string) =>
  (await json(await fetch(`${hotelsUrl}/reservations?clientReference=${encodeURIComponent(reference)}`))).reservations as Array<{ status: string; voucher: string | null }>;
const flightHoldsFor = async (reference: string) =>
  (await json(await fetch(`${stack.sandboxUrl}/v1/holds?reference=${encodeURIComponent(reference)}`))).data as Array<{ state: string }>;
const workflowIdOf = async (bookingId: string) => (await stack.orm.em.fork().findOneOrFail(Booking, { id: bookingId })).workflowId;

type Traveller = Awaited<ReturnType<typeof travellerOf>>;
type OfferJson = { offerId: string; provider: string; kind: string; price: { amount: string; currency: string }; details: Record<string, unknown> };

async function searchHotels(traveller: Traveller, query: string) {
  const response = await stack.app.request(`/api/v1/search/hotels?${query}`, { headers: traveller.auth });
  return { response, answer: (await json(response)) as { offers: OfferJson[]; partial: boolean; failedProviders: string[] } };
}

/** A flight and a room on the same random day, for one traveller. */
async function flightAndHotel(traveller: Traveller) {
  const day = new Date(Date.UTC(2027, 0, 1) + Math.floor(Math.random() * 330) * 86_400_000).toISOString().slice(0, 10);
  const checkOut = new Date(Date.parse(day) + 3 * 86_400_000).toISOString().slice(0, 10);
  const [flight] = (await traveller.search({ departureDate: day })).offers;
  const { answer } = await searchHotels(traveller, `city=LON&checkIn=${day}&checkOut=${checkOut}&guests=1`);
  const hotel = answer.offers[0]!;
  const body = await traveller.bookingBody({
    offers: [flight!, hotel].map((o) => ({ offerId: o.offerId, expectedPrice: o.price })),
  });
  return { flight: flight!, hotel, body };
}

describe('hotel search', () => {
  it('returns StayBridge rooms as offers of kind hotel, and refuses an impossible stay', async () => {
    const traveller = await travellerOf(stack);
    const { response, answer } = await searchHotels(traveller, 'city=LON&checkIn=2027-01-10&checkOut=2027-01-12&guests=2');
    expect(response.status).toBe(200);
    expect(answer.partial).toBe(false);
    expect(answer.failedProviders).toEqual([]);
    expect(answer.offers.length).toBeGreaterThan(0);
    for (const offer of answer.offers) {
      expect(offer).toMatchObject({ provider: 'staybridge', kind: 'hotel', price: { currency: 'EUR' } });
      expect(offer.offerId).toMatch(/^staybridge:LON\d{2}\./);
      expect(offer.details).toMatchObject({ checkIn: '2027-01-10', checkOut: '2027-01-12', roomType: expect.any(String), hotelName: expect.any(String) });
      expect(['FLEX', 'STANDARD', 'SAVER']).toContain(offer.details.fareRule);
    }

    for (const bad of [
      'city=LON&checkIn=2027-01-12&checkOut=2027-01-12', // no night
      'city=LON&checkIn=2027-01-10&checkOut=2027-02-10', // 31 nights
      'city=LON&checkIn=2027-01-10&checkOut=2027-01-12&guests=10',
      'city=london&checkIn=2027-01-10&checkOut=2027-01-12',
    ]) {
      const refused = await searchHotels(traveller, bad);
      expect(refused.response.status, bad).toBe(400);
      expect(refused.response.headers.get('content-type')).toContain('application/problem+json');
    }
  });

  it('answers within the deadline, partial, when the hotel supplier times out', async () => {
    const traveller = await travellerOf(stack);
    await setHotelFaults({ timeoutRate: 1, timeoutMs: 3_000 });
    const started = performance.now();
    const { response, answer } = await searchHotels(traveller, 'city=NYC&checkIn=2027-03-01&checkOut=2027-03-04&guests=2');
    const elapsed = performance.now() - started;
    expect(response.status).toBe(200);
    expect(answer).toEqual({ offers: [], partial: true, failedProviders: ['staybridge'] });
    expect(elapsed).toBeLessThan(DEADLINE_MS + 700);
    // Flights come from another provider and are untouched.
    expect((await traveller.search()).offers.length).toBeGreaterThan(0);
  });

  it('serves a repeated identical search from the cache without asking StayBridge again', async () => {
    const traveller = await travellerOf(stack);
    const first = await searchHotels(traveller, 'city=PAR&checkIn=2027-05-01&checkOut=2027-05-03&guests=2');
    expect(first.response.headers.get('x-cache')).toBe('MISS');
    const calls = await hotelRequests();
    // The same query written differently is the same search.
    const second = await searchHotels(traveller, 'guests=2&checkOut=2027-05-03&city=PAR&checkIn=2027-05-01');
    expect(second.response.headers.get('x-cache')).toBe('HIT');
    expect(second.answer).toEqual(first.answer);
    expect(await hotelRequests()).toBe(calls);
  });
});

describe('a booking of a flight and a hotel', () => {
  it('confirms at both providers, charges both, and cancels both', async () => {
    const traveller = await travellerOf(stack);
    const { flight, hotel, body } = await flightAndHotel(traveller);
    const { bookingId } = await json(await traveller.book(body));
    const booking = await traveller.settled(bookingId);
    expect(booking.status).toBe('CONFIRMED');
    const items: Record<string, BookingJson> = Object.fromEntries((booking.items as BookingJson[]).map((item) => [item.kind, item]));
    expect(items.flight).toMatchObject({ provider: 'sandbox', offerId: flight.offerId, state: 'CONFIRMED', confirmationCode: expect.stringMatching(/^PNR/) });
    expect(items.hotel).toMatchObject({ provider: 'staybridge', offerId: hotel.offerId, state: 'CONFIRMED', confirmationCode: expect.stringMatching(/^SB-/) });

    const workflowId = await workflowIdOf(bookingId);
    const [reservation] = await reservationsFor(holdReference(workflowId, hotel.offerId));
    expect(reservation).toMatchObject({ status: 'BOOKED', voucher: items.hotel!.confirmationCode });
    expect((await flightHoldsFor(holdReference(workflowId, flight.offerId)))[0]?.state).toBe('CONFIRMED');
    const charged = [flight, hotel].reduce((sum, o) => sum + toMinor(o.price as Money), 0);
    expect((await probesOf(stack).paymentOf(bookingId)).intent.amount).toBe(charged);

    const cancel = await stack.app.request(`/api/v1/bookings/${bookingId}/cancel`, {
      method: 'POST',
      headers: { ...traveller.auth, 'idempotency-key': randomUUID() },
    });
    expect(cancel.status).toBe(202);
    await traveller.reaches(bookingId, 'REFUNDED');
    expect((await reservationsFor(holdReference(workflowId, hotel.offerId)))[0]?.status).toBe('CANCELLED');
    expect((await flightHoldsFor(holdReference(workflowId, flight.offerId)))[0]?.state).toBe('CANCELLED');
    // The audit trail names the workflow that made each change: after the saga's CONFIRMED, the cancellation's.
    const trail = await stack.orm.em
      .fork()
      .find(AuditEntry, { resource: `booking:${bookingId}`, action: { $in: ['booking.status_changed', 'payment.status_changed'] } }, { orderBy: { seq: 'asc' } });
    const changes = trail.map((row) => `${row.actor} ${row.action} ${row.result}`);
    expect(changes.slice(changes.indexOf('system:booking-saga booking.status_changed CONFIRMED') + 1)).toEqual([
      'system:cancellation booking.status_changed CANCELLED',
      'system:cancellation payment.status_changed REFUNDED',
      'system:cancellation booking.status_changed REFUNDED',
    ]);
  });

  it('releases the flight hold when the hotel turns out to be sold out', async () => {
    const traveller = await travellerOf(stack);
    const { flight, hotel, body } = await flightAndHotel(traveller);
    // StayBridge's rate check confirms the price; the room is refused only when reserving, after the flight is held.
    await setHotelFaults({ soldOut: ['*'] });
    const { bookingId } = await json(await traveller.book(body));
    const booking = await traveller.settled(bookingId);
    expect(booking.status).toBe('FAILED');
    expect(booking.failure.code).toBe('SOLD_OUT');
    expect(booking.payment).toBeNull();

    const workflowId = await workflowIdOf(bookingId);
    expect((await flightHoldsFor(holdReference(workflowId, flight.offerId)))[0]?.state).toBe('RELEASED');
    expect(await reservationsFor(holdReference(workflowId, hotel.offerId))).toEqual([]);
    const states = Object.fromEntries((booking.items as Array<{ kind: string; state: string }>).map((item) => [item.kind, item.state]));
    expect(states).toEqual({ flight: 'RELEASED', hotel: 'RELEASED' });
  });
});
