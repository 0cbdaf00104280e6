import { createHash } from 'node:crypto';

/** StayBridge's deterministic inventory: the same city and stay always show the same hotels and rates. */

const CITY_NAMES: Readonly<Record<string, string>> = {
  LON: 'London',
  PAR: 'Paris',
  NYC: 'New York',
  ROM: 'Rome',
  BER: 'Berlin',
  AMS: 'Amsterdam',
  MAD: 'Madrid',
  TYO: 'Tokyo',
};
const HOTEL_STYLES = ['Grand', 'Riverside', 'Station', 'Garden', 'Old Town', 'Harbour'] as const;
const ROOM_TYPES = [
  { type: 'STANDARD_DOUBLE', maxAdults: 2, factor: 1 },
  { type: 'SUPERIOR_TWIN', maxAdults: 2, factor: 1.2 },
  { type: 'DELUXE_KING', maxAdults: 3, factor: 1.6 },
  { type: 'FAMILY_SUITE', maxAdults: 6, factor: 2.4 },
] as const;
export const CANCELLATION_POLICIES = ['FREE_CANCELLATION', 'PARTIAL', 'NON_REFUNDABLE'] as const;
export type CancellationPolicy = (typeof CANCELLATION_POLICIES)[number];
const HOTELS_PER_CITY = 3;
const ROOMS_PER_HOTEL = 2;
const DAY_MS = 86_400_000;

function hash(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}

export interface Hotel {
  code: string; // e.g. LON01
  name: string;
  stars: number;
}

export interface Room {
  hotel: Hotel;
  index: number; // 0..ROOMS_PER_HOTEL-1
  type: string;
  maxAdults: number;
  count: number; // rooms of this type the hotel has each night
  policy: CancellationPolicy;
  factor: number;
}

export function hotelsIn(cityCode: string): Hotel[] {
  return Array.from({ length: HOTELS_PER_CITY }, (_, n) => hotelFor(`${cityCode}${String(n + 1).padStart(2, '0')}`)!);
}

export function hotelFor(code: string): Hotel | undefined {
  const match = /^([A-Z]{3})(\d{2})$/.exec(code);
  const n = Number(match?.[2]);
  if (!match || n < 1 || n > HOTELS_PER_CITY) return undefined;
  const seed = hash(code);
  const city = CITY_NAMES[match[1]!] ?? match[1]!;
  return { code, name: `StayBridge ${HOTEL_STYLES[seed % HOTEL_STYLES.length]} ${city}`, stars: 2 + (seed % 4) };
}

export function roomsOf(hotel: Hotel): Room[] {
  return Array.from({ length: ROOMS_PER_HOTEL }, (_, index) => {
    const seed = hash(`${hotel.code}/${index}`);
    const kind = ROOM_TYPES[(hash(hotel.code) + index) % ROOM_TYPES.length]!;
    return {
      hotel,
      index,
      type: kind.type,
      maxAdults: kind.maxAdults,
      count: 2 + (seed % 4),
      policy: CANCELLATION_POLICIES[seed % CANCELLATION_POLICIES.length]!,
      factor: kind.factor,
    };
  });
}

export const nightsOf = (checkIn: string, checkOut: string) => Math.round((Date.parse(checkOut) - Date.parse(checkIn)) / DAY_MS);

/** What a rate key stands for; keys are self-describing, so expiry and re-pricing need no state. */
export interface RateKey {
  hotelCode: string;
  room: number;
  checkIn: string;
  checkOut: string;
  adults: number;
  issuedAtMs: number;
  quotedMinor: number; // the stay's total when the key was issued, for one room
}

const compact = (date: string) => date.replaceAll('-', '');
const expand = (date: string) => `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6)}`;

export function rateKeyFor(key: RateKey): string {
  return [key.hotelCode, `R${key.room}`, compact(key.checkIn), compact(key.checkOut), `A${key.adults}`, key.issuedAtMs.toString(36), key.quotedMinor.toString(36)].join('.');
}

export function parseRateKey(rateKey: string): { key: RateKey; room: Room } | undefined {
  const match = /^([A-Z]{3}\d{2})\.R(\d)\.(\d{8})\.(\d{8})\.A(\d)\.([0-9a-z]{1,11})\.([0-9a-z]{1,11})$/.exec(rateKey);
  if (!match) return undefined;
  const [, hotelCode, room, checkIn, checkOut, adults, issued, quoted] = match as unknown as string[];
  const hotel = hotelFor(hotelCode!);
  const found = hotel ? roomsOf(hotel)[Number(room)] : undefined;
  if (!found) return undefined;
  const key: RateKey = {
    hotelCode: hotelCode!,
    room: Number(room),
    checkIn: expand(checkIn!),
    checkOut: expand(checkOut!),
    adults: Number(adults),
    issuedAtMs: parseInt(issued!, 36),
    quotedMinor: parseInt(quoted!, 36),
  };
  if (Number.isNaN(Date.parse(key.checkIn)) || nightsOf(key.checkIn, key.checkOut) < 1 || key.adults < 1) return undefined;
  return { key, room: found };
}

/** A stay's price per adult: StayBridge prices by the guest, so a room's total splits evenly among them. */
export function perAdultStayMinor(room: Room, checkIn: string, checkOut: string): number {
  let total = 0;
  for (let night = 0; night < nightsOf(checkIn, checkOut); night += 1) {
    const date = new Date(Date.parse(checkIn) + night * DAY_MS).toISOString().slice(0, 10);
    total += Math.round((room.hotel.stars * 2_500 + (hash(`${room.hotel.code}/${room.index}/${date}`) % 4_000)) * room.factor);
  }
  return total;
}
