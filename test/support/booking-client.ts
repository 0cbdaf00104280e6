import { TERMINAL_STATUSES } from '../../domain/booking-status.js';
import { randomUUID } from 'node:crypto';
import type { Stack } from './stack.js';
import { signIn } from './sign-in.js';
import { eventually } from './eventually.js';

// any: tests read the API's JSON loosely and assert on the fields they care about.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type BookingJson = Record<string, any>;

const TERMINAL: ReadonlySet<string> = TERMINAL_STATUSES;

/** A signed-in traveller talking to the API the way a mobile client would, through app.request(). */
export async function travellerOf(stack: Stack, account?: { userId: string; auth: { authorization: string } }) {
  return travellerOver(async (path, init) => stack.app.request(path, init), account ?? (await signIn(stack)));
}

/** How a traveller reaches the API: app.request() in-process, or fetch() to a running API process. */
export type ApiRequest = (path: string, init?: RequestInit) => Promise<Response>;

/** The same traveller over any transport (the production-profile test books through API processes). */
export function travellerOver(request: ApiRequest, account: { userId: string; auth: { authorization: string } }) {
  const { userId, auth } = account;
  const headers = { ...auth, 'content-type': 'application/json' };

  async function search(query: Record<string, string> = {}) {
    // A random day unless the test names one: bookings spread over the sandbox's inventory.
    const day = new Date(Date.UTC(2027, 0, 1) + Math.floor(Math.random() * 360) * 86_400_000).toISOString().slice(0, 10);
    const params = new URLSearchParams({ origin: 'JFK', destination: 'LHR', departureDate: day, adults: '1', ...query });
    // Signed in, as the app searches: the search limit then counts per traveller, not per test process.
    const response = await request(`/api/v1/search/flights?${params}`, { headers: auth });
    if (response.status !== 200) throw new Error(`search answered ${response.status}`);
    return (await response.json()) as { offers: Array<{ offerId: string; price: { amount: string; currency: string } }> };
  }

  async function bookingBody(overrides: Record<string, unknown> = {}, query: Record<string, string> = {}) {
    const { offers } = await search(query);
    const offer = offers[0]!;
    return {
      offers: [{ offerId: offer.offerId, expectedPrice: offer.price }],
      passengers: [
        {
          givenName: 'Ada',
          familyName: 'Lovelace',
          dateOfBirth: '1985-12-10',
          passportNumber: `X${randomUUID().replaceAll('-', '').slice(0, 8).toUpperCase()}`,
          passportCountry: 'GB',
          nationality: 'GB',
        },
      ],
      contact: { email: 'ada@example.com', phone: '+447700900123' },
      paymentMethodId: 'pm_card_visa',
      ...overrides,
    };
  }

  async function book(body: unknown, key: string | null = randomUUID()) {
    return request('/api/v1/bookings', {
      method: 'POST',
      headers: key ? { ...headers, 'idempotency-key': key } : headers,
      body: JSON.stringify(body),
    });
  }

  async function get(bookingId: string) {
    return request(`/api/v1/bookings/${bookingId}`, { headers });
  }

  const read = async (bookingId: string) => (await (await get(bookingId)).json()) as BookingJson;

  /** Polls the booking until the saga has finished with it. */
  function settled(bookingId: string, timeoutMs = 45_000): Promise<BookingJson> {
    return eventually(() => read(bookingId), (b) => TERMINAL.has(b.status), { timeoutMs, what: `booking ${bookingId} to finish` });
  }

  /** Polls the booking until it shows `status`. */
  function reaches(bookingId: string, status: string, timeoutMs = 30_000): Promise<BookingJson> {
    return eventually(() => read(bookingId), (b) => b.status === status, { timeoutMs, what: `booking ${bookingId} to be ${status}` });
  }

  return { userId, auth, search, bookingBody, book, get, settled, reaches };
}

/** The body of an API response, read loosely. */
export async function json(response: Response): Promise<BookingJson> {
  return (await response.json()) as BookingJson;
}
