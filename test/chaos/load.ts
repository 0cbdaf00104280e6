import { randomUUID } from 'node:crypto';
import { bookingWorkflowId } from '../../domain/booking-ids.js';
import type { Stack } from '../support/stack.js';
import { json, travellerOf } from '../support/booking-client.js';
import { threeDSecureCard } from '../support/three-d-secure.js';

/**
 * What a traveller pays with: a good card, one that is declined, a payment method id Stripe has
 * never heard of (anyone can send one), or a card that asks for 3-D Secure.
 */
export type Card = 'pm_card_visa' | 'pm_card_visa_chargeDeclined' | 'pm_unknown' | 'three_d_secure';
type Traveller = Awaited<ReturnType<typeof travellerOf>>;

/** One traveller's booking: what they will POST, with which key and which card. */
export interface Order {
  traveller: Traveller;
  body: Awaited<ReturnType<Traveller['bookingBody']>>;
  idempotencyKey: string;
  card: Card;
  /** A 3-D Secure card's traveller completes the bank's challenge in the browser, or walks away from it. */
  challenge?: 'complete' | 'abandon';
  /** Some travellers change their mind: they cancel this long after the API accepted the booking. */
  cancelAfterMs?: number;
}

/** The order's offer as the sandbox provider names it (our offer ids carry the provider's name first). */
export function sandboxOfferId(order: Order): string {
  const offerId = order.body.offers[0]!.offerId as string;
  return offerId.slice(offerId.indexOf(':') + 1);
}

/** Which traveller pays how: every n-th order (by index) of each kind; the rest pay with a good card. */
export interface OrderMix {
  declinedEvery: number;
  cancelEvery: number;
  unknownMethodEvery?: number;
  threeDSecureEvery?: number;
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
  /** For a traveller who completes 3-D Secure: whether the challenge was offered and answered. */
  challenge?: string;
  /** How the API answered the traveller's cancellation, if they asked for one (202, or 409 when too late). */
  cancel?: { status: number; attempts: number; problem?: string; answers: string[] };
}

// Every order its own flight (route × day), so no booking fails for want of a seat.
const ROUTES = [['JFK', 'LHR'], ['LHR', 'JFK'], ['CDG', 'FCO'], ['FCO', 'CDG'], ['AMS', 'MAD'], ['MAD', 'AMS']] as const;
const DAYS = 360;

const every = (index: number, n: number | undefined, phase: number) => n !== undefined && index % n === phase % n;

function cardOf(index: number, mix: OrderMix): Card {
  // The unknown method first: behind the declined card it lost every other of its turns (11, 31, …).
  if (every(index, mix.unknownMethodEvery, 1)) return 'pm_unknown';
  if (index % mix.declinedEvery === mix.declinedEvery - 1) return 'pm_card_visa_chargeDeclined';
  if (every(index, mix.threeDSecureEvery, 2)) return 'three_d_secure';
  return 'pm_card_visa';
}

/**
 * Signs `count` travellers in and has each pick an offer and a way to pay (`mix`); every
 * `cancelEvery`-th of those with a good card cancels within four seconds of booking, and every
 * other 3-D Secure traveller never completes the challenge.
 */
export async function prepareOrders(stack: Stack, count: number, mix: OrderMix): Promise<Order[]> {
  const orders: Order[] = [];
  // A few at a time: searches and sign-ins are quick, but not free on a small machine.
  for (let start = 0; start < count; start += 8) {
    const batch = Array.from({ length: Math.min(8, count - start) }, async (_, offset): Promise<Order> => {
      const index = start + offset;
      const [origin, destination] = ROUTES[Math.floor(index / DAYS) % ROUTES.length]!;
      const departureDate = new Date(Date.UTC(2027, 0, 1) + (index % DAYS) * 86_400_000).toISOString().slice(0, 10);
      const card = cardOf(index, mix);
      // Unknown to Stripe, and unique, so no two orders share one by accident.
      const paymentMethodId =
        card === 'three_d_secure' ? await threeDSecureCard(stack.stripe) : card === 'pm_unknown' ? `pm_unknown${randomUUID().slice(0, 8)}` : card;
      const traveller = await travellerOf(stack);
      const body = await traveller.bookingBody({ paymentMethodId }, { origin, destination, departureDate });
      const cancels = card === 'pm_card_visa' && index % mix.cancelEvery === Math.floor(mix.cancelEvery / 2);
      const challenge = card === 'three_d_secure' ? (Math.floor(index / (mix.threeDSecureEvery ?? 1)) % 2 === 0 ? 'complete' : 'abandon') : undefined;
      return {
        traveller,
        body,
        idempotencyKey: randomUUID(),
        card,
        ...(challenge ? { challenge } : {}),
        ...(cancels ? { cancelAfterMs: (index * 733) % 4_000 } : {}),
      };
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
 * A traveller paying with 3-D Secure stays on the page until the challenge is offered, as the web
 * client does, up to `challengeDeadline`: a backlog can take the saga longer than retrying the POST may.
 */
export async function submit(stack: Stack, order: Order, deadline: number, challengeDeadline = deadline): Promise<Submission> {
  const booked = await withRetries(() => order.traveller.book(order.body, order.idempotencyKey), deadline);
  const { attempts } = booked;
  if (!booked.response) return { order, attempts, recordedBeforeFailure: false, refused: booked.problem };
  const { status } = booked.response;
  if (status !== 200 && status !== 202) {
    return { order, attempts, recordedBeforeFailure: false, refused: `${status} ${(await booked.response.text()).slice(0, 200)}` };
  }
  const bookingId = (await json(booked.response)).bookingId as string;
  const submission: Submission = { order, bookingId, attempts, recordedBeforeFailure: attempts > 1 && status === 200 };
  if (order.challenge === 'complete') submission.challenge = await completeInBrowser(stack, order, bookingId, challengeDeadline);
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

/**
 * What the browser does for a 3-D Secure card: polls the booking until it offers the challenge
 * (payment.nextAction), then completes it at Stripe with the publishable key and the client secret,
 * as Stripe.js does. A booking that ends before offering one (a fault failed it first) has none to complete.
 */
async function completeInBrowser(stack: Stack, order: Order, bookingId: string, deadline: number): Promise<string> {
  // An operator may terminate the saga meanwhile: its booking then stays as it was, and a traveller
  // left waiting for it would wait out the whole deadline (a quarter of an hour) for nothing.
  const saga = stack.temporal.workflow.getHandle(bookingWorkflowId(order.traveller.userId, order.idempotencyKey));
  let lookedAt = 0;
  const terminated = async () => {
    if (Date.now() - lookedAt < 5_000) return false;
    lookedAt = Date.now();
    return (await saga.describe().catch(() => undefined))?.status.name === 'TERMINATED';
  };
  for (;;) {
    const read = await order.traveller.get(bookingId).catch(() => undefined);
    const view = read?.status === 200 ? await json(read) : undefined;
    const secret = view?.payment?.nextAction?.clientSecret as string | undefined;
    if (secret) {
      const answered = await withRetries(
        () =>
          fetch(`${stack.config.stripe.apiUrl}/v1/payment_intents/${secret.split('_secret_')[0]}/_authenticate?success=true`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ key: stack.config.stripe.publishableKey, client_secret: secret }),
            signal: AbortSignal.timeout(5_000),
          }),
        deadline,
      );
      if (!answered.response) return `${answered.problem}`;
      if (!answered.response.ok) return `refused ${answered.response.status}`;
      // Back from the bank's page, the web client follows the booking until the payment is decided:
      // its reads bring Stripe's answer to the saga should the webhook be lost.
      while (Date.now() < deadline) {
        const after = await order.traveller.get(bookingId).catch(() => undefined);
        if (after?.status === 200 && (await json(after)).status !== 'AWAITING_PAYMENT') break;
        if (await terminated()) return 'completed; the saga was terminated';
        await sleep(1_000);
      }
      return 'completed';
    }
    if (view && !['PENDING', 'STARTED', 'HELD', 'AWAITING_PAYMENT', 'NEEDS_ATTENTION'].includes(view.status as string)) return 'never offered';
    if (Date.now() > deadline || (await terminated())) return 'never offered';
    await sleep(500);
  }
}
