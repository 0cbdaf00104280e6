import { injectFaults } from './fault-injection.js';
import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { faultsSchema } from './sandbox.app.js';
import {
  hotelsIn,
  nightsOf,
  parseRateKey,
  perAdultStayMinor,
  rateKeyFor,
  roomsOf,
  type RateKey,
  type Room,
} from './hotel-inventory.js';

/**
 * "StayBridge", the sandbox hotel supplier: camelCase JSON, decimal-string money, rate keys,
 * provisional reservations that lapse, commit and void, and `{ fault: { code } }` errors.
 * Unlike the flight sandbox its rate check confirms price only: availability is decided when
 * reserving, as with many bed banks.
 */

export const hotelFaultsSchema = faultsSchema
  .pick({ latencyMs: true, errorRate: true, timeoutRate: true, rejectConfirm: true, failRelease: true, priceIncreasePercent: true, holdTtlMs: true })
  .extend({
    // How long a "timed out" call hangs before it is served anyway (a late success); 120 s unless set.
    timeoutMs: z.number().int().positive().optional(),
    soldOut: z.array(z.string()).default([]), // hotel codes (LON01), or "*" for everything
  });
export type HotelFaults = z.infer<typeof hotelFaultsSchema>;

export interface HotelSandboxOptions {
  offerTtlMs: number;
  holdTtlMs: number;
  faults?: Partial<HotelFaults>;
  now?: () => number;
}

type FaultCode =
  | 'INVALID_REQUEST'
  | 'RATE_NOT_FOUND'
  | 'RATE_EXPIRED'
  | 'SOLD_OUT'
  | 'PRICE_CHANGED'
  | 'OCCUPANCY_EXCEEDED'
  | 'RESERVATION_NOT_FOUND'
  | 'RESERVATION_LAPSED'
  | 'RESERVATION_CLOSED'
  | 'COMMIT_REJECTED'
  | 'SERVICE_UNAVAILABLE';
type Status = 400 | 404 | 409 | 410 | 422 | 503;

type ReservationStatus = 'PROVISIONAL' | 'BOOKED' | 'RELEASED' | 'CANCELLED' | 'LAPSED';
interface Reservation {
  id: string;
  clientReference: string;
  rateKey: string;
  hotel: { code: string; name: string };
  roomIndex: number;
  stay: { checkIn: string; checkOut: string };
  occupancy: { adults: number };
  rooms: number;
  status: ReservationStatus;
  expiresAt: string;
  total: { value: string; currency: 'EUR' };
  voucher: string | null;
  createdAt: string;
  /** Who stays, by name only: shown by GET /reservations/:id alone. */
  leadGuest: GuestName | null;
  guests: GuestName[];
}

const stay = z.strictObject({ checkIn: z.iso.date(), checkOut: z.iso.date() }).refine((s) => nightsOf(s.checkIn, s.checkOut) >= 1);
const availabilityRequest = z.strictObject({
  destination: z.strictObject({ cityCode: z.string().regex(/^[A-Z]{3}$/) }),
  stay,
  occupancy: z.strictObject({ adults: z.number().int().min(1).max(9) }),
});
const reservationRequest = z.strictObject({
  rateKey: z.string().min(1).max(100),
  rooms: z.number().int().min(1).max(9),
  clientReference: z.string().min(1).max(300),
  // The party, when it differs from the one the rate was quoted for: priced per adult.
  occupancy: z.strictObject({ adults: z.number().int().min(1).max(9) }).optional(),
});

// A hotel needs to know who arrives, not their documents: names only, and nothing else is accepted.
const guestName = z.strictObject({ givenName: z.string().min(1).max(100), familyName: z.string().min(1).max(100) });
type GuestName = z.infer<typeof guestName>;
const commitRequest = z.strictObject({ leadGuest: guestName, guests: z.array(guestName).max(8).default([]) });

const decimal = (minor: number) => `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;

export function createHotelSandboxApp(options: HotelSandboxOptions) {
  const now = options.now ?? Date.now;
  let faults: HotelFaults = hotelFaultsSchema.parse(options.faults ?? {});
  const reservations = new Map<string, Reservation>();
  const byReference = new Map<string, string>();
  const stats = { requests: 0, injectedErrors: 0, injectedTimeouts: 0 };

  const fault = (c: Context, status: Status, code: FaultCode, message: string) => c.json({ fault: { code, message } }, status);
  const lapsed = (r: Reservation) => r.status === 'PROVISIONAL' && Date.parse(r.expiresAt) <= now();
  const settle = (r: Reservation) => {
    if (lapsed(r)) r.status = 'LAPSED';
    return r;
  };
  const soldOut = (hotelCode: string) => faults.soldOut.includes('*') || faults.soldOut.includes(hotelCode);
  const perAdult = (room: Room, checkIn: string, checkOut: string) =>
    Math.round(perAdultStayMinor(room, checkIn, checkOut) * (1 + faults.priceIncreasePercent / 100));
  const overlaps = (r: Reservation, checkIn: string, checkOut: string) => r.stay.checkIn < checkOut && checkIn < r.stay.checkOut;
  const roomsLeft = (room: Room, checkIn: string, checkOut: string) =>
    room.count -
    [...reservations.values()]
      .map(settle)
      .filter((r) => r.hotel.code === room.hotel.code && r.roomIndex === room.index && (r.status === 'PROVISIONAL' || r.status === 'BOOKED'))
      .filter((r) => overlaps(r, checkIn, checkOut))
      .reduce((sum, r) => sum + r.rooms, 0);
  const validUntil = (key: RateKey) => new Date(key.issuedAtMs + options.offerTtlMs).toISOString();
  // Every answer but the single-reservation retrieve leaves the guests out.
  const view = (r: Reservation) => {
    const { leadGuest: _lead, guests: _guests, ...rest } = settle(r);
    return rest;
  };

  const app = new Hono();
  app.get('/healthz', (c) => c.json({ ok: true }));

  // Control plane for tests and the chaos suite, as on the flight sandbox: not part of the supplier's API.
  app.get('/_control/faults', (c) => c.json(faults));
  app.put('/_control/faults', async (c) => {
    const parsed = hotelFaultsSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return fault(c, 400, 'INVALID_REQUEST', 'invalid faults');
    faults = parsed.data;
    return c.json(faults);
  });
  app.get('/_control/stats', (c) => c.json(stats));

  const faultsOfThisSupplier = injectFaults(() => faults, stats, (c) => fault(c, 503, 'SERVICE_UNAVAILABLE', 'injected fault'));
  for (const path of ['/availability', '/rates/*', '/reservations', '/reservations/*']) app.use(path, faultsOfThisSupplier);

  app.post('/availability', async (c) => {
    const body = availabilityRequest.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) return fault(c, 400, 'INVALID_REQUEST', 'destination.cityCode, stay and occupancy.adults are required');
    const { destination, stay: { checkIn, checkOut }, occupancy: { adults } } = body.data;
    const issuedAtMs = now();
    const results = hotelsIn(destination.cityCode)
      .filter((hotel) => !soldOut(hotel.code))
      .flatMap(roomsOf)
      .filter((room) => adults <= room.maxAdults && roomsLeft(room, checkIn, checkOut) > 0)
      .map((room) => {
        const totalMinor = perAdult(room, checkIn, checkOut) * adults;
        const key: RateKey = { hotelCode: room.hotel.code, room: room.index, checkIn, checkOut, adults, issuedAtMs, quotedMinor: totalMinor };
        return {
          rateKey: rateKeyFor(key),
          hotel: { code: room.hotel.code, name: room.hotel.name, stars: room.hotel.stars },
          room: { type: room.type, maxAdults: room.maxAdults },
          total: { value: decimal(totalMinor), currency: 'EUR' },
          validUntil: validUntil(key),
          cancellationPolicy: room.policy,
        };
      });
    return c.json({ results });
  });

  // Re-pricing: the rate as it stands now. It does not promise a room; the reservation does.
  app.get('/rates/:rateKey', (c) => {
    const rate = parseRateKey(c.req.param('rateKey'));
    if (!rate) return fault(c, 404, 'RATE_NOT_FOUND', 'no such rate');
    const { key, room } = rate;
    if (key.issuedAtMs + options.offerTtlMs <= now()) return fault(c, 410, 'RATE_EXPIRED', 'the rate has expired');
    return c.json({
      rate: {
        rateKey: c.req.param('rateKey'),
        hotel: { code: room.hotel.code, name: room.hotel.name, stars: room.hotel.stars },
        room: { type: room.type, maxAdults: room.maxAdults },
        stay: { checkIn: key.checkIn, checkOut: key.checkOut },
        occupancy: { adults: key.adults },
        total: { value: decimal(perAdult(room, key.checkIn, key.checkOut) * key.adults), currency: 'EUR' },
        validUntil: validUntil(key),
        cancellationPolicy: room.policy,
      },
    });
  });

  app.post('/reservations', async (c) => {
    const body = reservationRequest.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) return fault(c, 400, 'INVALID_REQUEST', 'rateKey, rooms and clientReference are required');
    // The client reference is the caller's idempotency key: a retried reservation returns the first.
    const existing = byReference.get(body.data.clientReference);
    if (existing) return c.json({ reservation: view(reservations.get(existing)!) }, 200);
    const rate = parseRateKey(body.data.rateKey);
    if (!rate) return fault(c, 404, 'RATE_NOT_FOUND', 'no such rate');
    const { key, room } = rate;
    if (key.issuedAtMs + options.offerTtlMs <= now()) return fault(c, 410, 'RATE_EXPIRED', 'the rate has expired');
    const adults = body.data.occupancy?.adults ?? key.adults;
    if (adults > room.maxAdults) return fault(c, 422, 'OCCUPANCY_EXCEEDED', `the room takes at most ${room.maxAdults} adults`);
    if (soldOut(room.hotel.code) || roomsLeft(room, key.checkIn, key.checkOut) < body.data.rooms) {
      return fault(c, 409, 'SOLD_OUT', 'no rooms left for this stay');
    }
    const perAdultNow = perAdult(room, key.checkIn, key.checkOut);
    if (perAdultNow * key.adults !== key.quotedMinor) return fault(c, 409, 'PRICE_CHANGED', 'the rate has changed; search again');
    const reservation: Reservation = {
      id: `SBR-${randomUUID()}`,
      clientReference: body.data.clientReference,
      rateKey: body.data.rateKey,
      hotel: { code: room.hotel.code, name: room.hotel.name },
      roomIndex: room.index,
      stay: { checkIn: key.checkIn, checkOut: key.checkOut },
      occupancy: { adults },
      rooms: body.data.rooms,
      status: 'PROVISIONAL',
      expiresAt: new Date(now() + (faults.holdTtlMs ?? options.holdTtlMs)).toISOString(),
      total: { value: decimal(perAdultNow * adults * body.data.rooms), currency: 'EUR' },
      voucher: null,
      createdAt: new Date(now()).toISOString(),
      leadGuest: null,
      guests: [],
    };
    reservations.set(reservation.id, reservation);
    byReference.set(reservation.clientReference, reservation.id);
    return c.json({ reservation: view(reservation) }, 201);
  });

  app.get('/reservations', (c) => {
    const reference = c.req.query('clientReference');
    const list = [...reservations.values()].filter((r) => !reference || r.clientReference === reference);
    return c.json({ reservations: list.map(view) });
  });

  app.get('/reservations/:id', (c) => {
    const reservation = reservations.get(c.req.param('id'));
    return reservation ? c.json({ reservation: settle(reservation) }) : fault(c, 404, 'RESERVATION_NOT_FOUND', 'no such reservation');
  });

  app.post('/reservations/:id/commit', async (c) => {
    const reservation = reservations.get(c.req.param('id'));
    if (!reservation) return fault(c, 404, 'RESERVATION_NOT_FOUND', 'no such reservation');
    const body = commitRequest.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) return fault(c, 400, 'INVALID_REQUEST', 'leadGuest with givenName and familyName is required; names only');
    if (1 + body.data.guests.length > reservation.occupancy.adults) {
      return fault(c, 422, 'OCCUPANCY_EXCEEDED', `the reservation is for ${reservation.occupancy.adults} adults`);
    }
    settle(reservation);
    if (reservation.status === 'BOOKED') return c.json({ reservation: view(reservation) });
    if (reservation.status === 'LAPSED') return fault(c, 410, 'RESERVATION_LAPSED', 'the provisional reservation lapsed');
    if (reservation.status !== 'PROVISIONAL') return fault(c, 409, 'RESERVATION_CLOSED', `the reservation is ${reservation.status.toLowerCase()}`);
    if (faults.rejectConfirm) return fault(c, 422, 'COMMIT_REJECTED', 'the hotel refused the reservation');
    reservation.status = 'BOOKED';
    reservation.voucher = `SB-${reservation.id.slice(4, 12).toUpperCase()}`;
    reservation.leadGuest = body.data.leadGuest;
    reservation.guests = body.data.guests;
    return c.json({ reservation: view(reservation) });
  });

  // Releases a provisional reservation or cancels a booked one; voiding again changes nothing.
  app.post('/reservations/:id/void', (c) => {
    if (faults.failRelease) return fault(c, 503, 'SERVICE_UNAVAILABLE', 'injected fault');
    const reservation = reservations.get(c.req.param('id'));
    if (!reservation) return fault(c, 404, 'RESERVATION_NOT_FOUND', 'no such reservation');
    settle(reservation);
    if (reservation.status === 'PROVISIONAL') reservation.status = 'RELEASED';
    if (reservation.status === 'BOOKED') reservation.status = 'CANCELLED';
    return c.json({ reservation: view(reservation) });
  });

  return app;
}
