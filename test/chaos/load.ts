import { randomUUID } from 'node:crypto';
import type { Stack } from '../support/stack.js';
import { json, travellerOf } from '../support/booking-client.js';

export type Card = 'pm_card_visa' | 'pm_card_visa_chargeDeclined';
type Traveller = Awaited<ReturnType<typeof travellerOf>>;

/** One traveller's booking: what they will POST, with which key and which card. */
export interface Order {
  traveller: Traveller;
  body: Awaited<ReturnType<Traveller['bookingBody']>>;
  idempotencyKey: string;
  card: Card;
  /** Some travellers change their mind: they cancel this long after the API accepted the booking. */
  cancelAfterMs?: number;
}

/** How the API answered an order, after the client's retries. */
export interface Submission {
  order: Order;
  bookingId?: string;
  /** POSTs this client sent (1 when the first was accepted). */
  attempts: number;
  /**
   * Accepted on a retry as a booking already recorded (200, not 202): an earlier POST had stored it
   * and failed before its saga started. Without the client's retry it would have stayed PENDING.
   */
  recordedBeforeFailure: boolean;
  /** A 4xx other than 429: the API refused the booking outright. */
  refused?: string;
  /** How the API answered the traveller's cancellation, if they asked for one (202, or 409 when too late). */
  cancel?: { status: number; attempts: number; problem?: string; answers: string[] };
}

// Every order its own flight (route × day), so no booking fails for want of a seat.
const ROUTES = [['JFK', 'LHR'], ['LHR', 'JFK'], ['CDG', 'FCO'], ['FCO', 'CDG'], ['AMS', 'MAD'], ['MAD', 'AMS']] as const;
const DAYS = 360;

/**
 * Signs `count` travellers in and has each pick an offer; every `declinedEvery`-th pays with a card
 * that is declined, and every `cancelEvery`-th of the others cancels within four seconds of booking.
 */
export async function prepareOrders(stack: Stack, count: number, declinedEvery: number, cancelEvery: number): Promise<Order[]> {
  const orders: Order[] = [];
  // A few at a time: searches and sign-ins are quick, but not free on a small machine.
  for (let start = 0; start < count; start += 8) {
    const batch = Array.from({ length: Math.min(8, count - start) }, async (_, offset): Promise<Order> => {
      const index = start + offset;
      const [origin, destination] = ROUTES[Math.floor(index / DAYS) % ROUTES.length]!;
      const departureDate = new Date(Date.UTC(2027, 0, 1) + (index % DAYS) * 86_400_000).toISOString().slice(0, 10);
      const card: Card = index % declinedEvery === declinedEvery - 1 ? 'pm_card_visa_chargeDeclined' : 'pm_card_visa';
      const traveller = await travellerOf(stack);
      const body = await traveller.bookingBody({ paymentMethodId: card }, { origin, destination, departureDate });
      const cancels = card === 'pm_card_visa' && index % cancelEvery === Math.floor(cancelEvery / 2);
      return { traveller, body, idempotencyKey: randomUUID(), card, ...(cancels ? { cancelAfterMs: (index * 733) % 4_000 } : {}) };
    });
    orders.push(...(await Promise.all(batch)));
  }
  return orders;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends one request the way a well-behaved client does: a 5xx, a 429 or no answer is retried as it
 * was, until `deadline`. `answers` collects what each try got, for the report of a violation.
 */
async function withRetries(send: () => Promise<Response>, deadline: number, answers: string[] = []) {
  let problem = '';
  for (let attempts = 1; ; attempts += 1) {
    const sent = new Date().toISOString().slice(11, 23);
    try {
      const response = await send();
      if (response.status < 500 && response.status !== 429) {
        answers.push(`${sent} ${response.status} ${(await response.clone().text()).slice(0, 120)}`);
        return { response, attempts };
      }
      problem = `${response.status} ${(await response.text()).slice(0, 200)}`;
    } catch (error) {
      problem = (error as Error).message;
    }
    answers.push(`${sent} ${problem.slice(0, 160)}`);
    if (Date.now() > deadline) return { problem: `gave up retrying: ${problem}`, attempts };
    await sleep(Math.min(attempts, 4) * 500);
  }
}

/**
 * POSTs the order, retrying with the same Idempotency-Key (the API's promise is that this makes
 * one booking); then, for a traveller who changes their mind, asks to cancel it, with a key of its own.
 */
export async function submit(stack: Stack, order: Order, deadline: number): Promise<Submission> {
  const booked = await withRetries(() => order.traveller.book(order.body, order.idempotencyKey), deadline);
  const { attempts } = booked;
  if (!booked.response) return { order, attempts, recordedBeforeFailure: false, refused: booked.problem };
  const { status } = booked.response;
  if (status !== 200 && status !== 202) {
    return { order, attempts, recordedBeforeFailure: false, refused: `${status} ${(await booked.response.text()).slice(0, 200)}` };
  }
  const bookingId = (await json(booked.response)).bookingId as string;
  const submission: Submission = { order, bookingId, attempts, recordedBeforeFailure: attempts > 1 && status === 200 };
  if (order.cancelAfterMs === undefined) return submission;

  await sleep(order.cancelAfterMs);
  const cancelKey = randomUUID();
  const answers: string[] = [];
  const cancelled = await withRetries(
    async () =>
      stack.app.request(`/api/v1/bookings/${bookingId}/cancel`, {
        method: 'POST',
        headers: { ...order.traveller.auth, 'idempotency-key': cancelKey },
      }),
    deadline,
    answers,
  );
  submission.cancel = cancelled.response
    ? { status: cancelled.response.status, attempts: cancelled.attempts, answers }
    : { status: 0, attempts: cancelled.attempts, problem: cancelled.problem, answers };
  return submission;
}
