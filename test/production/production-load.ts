import { randomUUID } from 'node:crypto';
import { TEST_PASSWORD, tokenIn } from '../support/http-account.js';
import { json, travellerOver, type ApiRequest } from '../support/booking-client.js';
import type { Card, Order, Submission } from '../chaos/load.js';
import type { ProductionStack } from './production-stack.js';

/** An order placed through one of the API processes (0 or 1). */
export interface ProductionOrder extends Order {
  api: number;
}

// Every order its own flight (route × day), so none fails for want of a seat.
const ROUTES = [['JFK', 'LHR'], ['CDG', 'FCO'], ['AMS', 'MAD']] as const;
const DECLINED_EVERY = 4;

/** Reaches one API process as a traveller behind the load balancer: X-Forwarded-For names them. */
function apiRequest(baseUrl: string, clientIp: string): ApiRequest {
  return (path, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('x-forwarded-for', clientIp);
    return fetch(`${baseUrl}${path}`, { ...init, headers });
  };
}

/** Signs up over HTTP, reads the verification link the worker mailed over SMTP, verifies: a mobile client's tokens. */
async function signUp(s: ProductionStack, request: ApiRequest, email: string): Promise<{ userId: string; auth: { authorization: string } }> {
  const headers = { 'content-type': 'application/json' };
  const signup = await request('/api/v1/auth/signup', { method: 'POST', headers, body: JSON.stringify({ email, password: TEST_PASSWORD, name: 'Ada Lovelace' }) });
  if (signup.status !== 202) throw new Error(`signup answered ${signup.status}: ${await signup.text()}`);
  const token = tokenIn(await s.smtp.mailTo(email, /confirm/i));
  const verified = await request('/api/v1/auth/verify-email', { method: 'POST', headers, body: JSON.stringify({ token, password: TEST_PASSWORD, tokenDelivery: 'body' }) });
  if (verified.status !== 200) throw new Error(`verify-email answered ${verified.status}: ${await verified.text()}`);
  const body = (await verified.json()) as { user: { id: string }; accessToken: string };
  return { userId: body.user.id, auth: { authorization: `Bearer ${body.accessToken}` } };
}

/**
 * `count` travellers, alternating between the APIs, each from an address of their own; every fourth card is
 * declined. Each flies on a day of their own from `firstDay` (days after 1 March 2027) on.
 */
export async function prepareTravellers(s: ProductionStack, count: number, firstDay = 0): Promise<ProductionOrder[]> {
  const orders: ProductionOrder[] = [];
  for (let start = 0; start < count; start += 6) {
    const batch = Array.from({ length: Math.min(6, count - start) }, async (_, offset): Promise<ProductionOrder> => {
      const index = start + offset;
      const api = index % 2;
      const request = apiRequest(s.apiUrls[api]!, `198.51.100.${1 + (index % 250)}`);
      const traveller = travellerOver(request, await signUp(s, request, `traveller-${randomUUID()}@example.test`));
      const [origin, destination] = ROUTES[index % ROUTES.length]!;
      const departureDate = new Date(Date.UTC(2027, 2, 1) + (firstDay + index) * 86_400_000).toISOString().slice(0, 10);
      const card: Card = index % DECLINED_EVERY === DECLINED_EVERY - 1 ? 'pm_card_visa_chargeDeclined' : 'pm_card_visa';
      const body = await traveller.bookingBody({ paymentMethodId: card }, { origin, destination, departureDate });
      return { traveller, body, idempotencyKey: randomUUID(), card, api };
    });
    orders.push(...(await Promise.all(batch)));
  }
  return orders;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Each traveller arrives at their moment within `arrivalsMs` and POSTs their booking, retrying a 5xx,
 * a 429 or no answer with the same Idempotency-Key (one booking, whatever the retries) until `deadline`.
 */
export async function bookAll(_s: ProductionStack, orders: ProductionOrder[], arrivalsMs: number, deadline: number): Promise<Submission[]> {
  return Promise.all(
    orders.map(async (order, i): Promise<Submission> => {
      await sleep((i * arrivalsMs) / orders.length);
      let problem = '';
      for (let attempts = 1; ; attempts += 1) {
        try {
          const response = await order.traveller.book(order.body, order.idempotencyKey);
          if (response.status === 200 || response.status === 202) {
            const { bookingId } = await json(response);
            return { order, bookingId: bookingId as string, attempts, recordedBeforeFailure: attempts > 1 && response.status === 200 };
          }
          problem = `${response.status} ${(await response.text()).slice(0, 200)}`;
          if (response.status < 500 && response.status !== 429) return { order, attempts, recordedBeforeFailure: false, refused: problem };
        } catch (error) {
          problem = (error as Error).message;
        }
        if (Date.now() > deadline) return { order, attempts, recordedBeforeFailure: false, refused: `gave up retrying: ${problem}` };
        await sleep(Math.min(attempts, 4) * 500);
      }
    }),
  );
}
