import { createHash } from 'node:crypto';

/** Deterministic fares and seat counts: the same query always shows the same flights. */

const CABIN_CODES = { economy: 'Y', premium: 'W', business: 'J', first: 'F' } as const;
export type Cabin = keyof typeof CABIN_CODES;
const CABIN_BY_CODE = Object.fromEntries(Object.entries(CABIN_CODES).map(([k, v]) => [v, k])) as Record<string, Cabin>;
const CABIN_FACTOR: Record<Cabin, number> = { economy: 1, premium: 1.8, business: 4, first: 7 };
const FLIGHTS_PER_DAY = 3;

function hash(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}

export interface FlightKey {
  origin: string;
  destination: string;
  date: string; // YYYY-MM-DD
  cabin: Cabin;
  number: number; // 0..FLIGHTS_PER_DAY-1
}

export interface Flight extends FlightKey {
  flightNumber: string;
  departsAt: string;
  arrivesAt: string;
  fareMinor: number;
  currency: 'EUR';
  seats: number;
}

/** The inventory key of a flight, without the offer's issue time. */
export function flightId(key: FlightKey): string {
  return `${key.origin}${key.destination}-${key.date.replaceAll('-', '')}-${CABIN_CODES[key.cabin]}-${key.number}`;
}

export function parseFlightId(id: string): FlightKey | undefined {
  const match = /^([A-Z]{3})([A-Z]{3})-(\d{4})(\d{2})(\d{2})-([YWJF])-(\d)$/.exec(id);
  if (!match) return undefined;
  const [, origin, destination, y, m, d, cabinCode, n] = match as unknown as string[];
  const cabin = CABIN_BY_CODE[cabinCode!];
  const number = Number(n);
  if (!cabin || number >= FLIGHTS_PER_DAY) return undefined;
  return { origin: origin!, destination: destination!, date: `${y}-${m}-${d}`, cabin, number };
}

export function flightFor(key: FlightKey): Flight {
  const seed = hash(flightId(key));
  const departureMinutes = 6 * 60 + key.number * 300 + (seed % 60);
  const durationMinutes = 60 + (hash(`${key.origin}${key.destination}`) % 600);
  const departs = new Date(`${key.date}T00:00:00Z`);
  departs.setUTCMinutes(departureMinutes);
  const arrives = new Date(departs.getTime() + durationMinutes * 60_000);
  const baseMinor = 4_900 + (seed % 40_000);
  return {
    ...key,
    flightNumber: `SB${100 + ((seed >>> 8) % 900)}`,
    departsAt: departs.toISOString(),
    arrivesAt: arrives.toISOString(),
    fareMinor: Math.round(baseMinor * CABIN_FACTOR[key.cabin]),
    currency: 'EUR',
    seats: 4 + (seed % 6),
  };
}

/** The fare's cancellation terms: flexible in premium cabins, mixed in economy. */
export function fareRuleFor(key: FlightKey): 'FLEX' | 'STANDARD' | 'SAVER' {
  if (key.cabin === 'business' || key.cabin === 'first') return 'FLEX';
  if (key.cabin === 'premium') return 'STANDARD';
  return key.number % 2 === 0 ? 'STANDARD' : 'SAVER';
}

export function flightsFor(origin: string, destination: string, date: string, cabin: Cabin): Flight[] {
  return Array.from({ length: FLIGHTS_PER_DAY }, (_, number) => flightFor({ origin, destination, date, cabin, number }));
}

/** Offer ids carry the flight and when the offer was issued, so expiry needs no state. */
export function offerIdFor(flight: FlightKey, issuedAtMs: number): string {
  return `SBX-${flightId(flight)}-${issuedAtMs.toString(36)}`;
}

export function parseOfferId(offerId: string): { flight: FlightKey; issuedAtMs: number } | undefined {
  const match = /^SBX-(.+)-([0-9a-z]+)$/.exec(offerId);
  if (!match) return undefined;
  const flight = parseFlightId(match[1]!);
  const issuedAtMs = parseInt(match[2]!, 36);
  if (!flight || !Number.isSafeInteger(issuedAtMs)) return undefined;
  return { flight, issuedAtMs };
}
