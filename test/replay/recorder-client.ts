import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type PayloadCodec } from '@temporalio/common';
import type { temporal as proto } from '@temporalio/proto';
import type Stripe from 'stripe';
import { loadDevConfig } from '../../dev/config.js';
import { createOrm } from '../../infra/db/orm.js';
import { signUpOverHttp } from '../support/http-account.js';
import { randomClientIp } from '../support/http-client.js';
import { bookingWorkflowId } from '../../domain/booking-ids.js';

/**
 * What `npm run record:histories` does to the running stack (`npm run up`): the API as a client
 * calls it, the sandbox suppliers' fault controls, and reads of the workflows it starts.
 */

export const config = loadDevConfig();
const apiHost = config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host;
export const apiUrl = `http://${apiHost}:${config.api.port}`;
const sandboxUrl = config.providers.sandboxUrl;
const hotelUrl = config.providers.hotelUrl;

export interface BookingView {
  bookingId: string;
  status: string;
  failure?: { code: string; message: string };
}

export interface Traveller {
  userId: string;
  email: string;
  password: string;
  /** The client address claimed through the API's trusted proxy (X-Forwarded-For): each traveller its own. */
  ip: string;
  auth: { authorization: string };
  /** Every PII value this traveller sent: none of them may appear in a recorded history. */
  pii: string[];
}

/** A workflow a path started, and whose data must stay out of its history. */
export interface Started {
  workflowId: string;
  /** The run recorded, when it is not the workflow's latest (a run that continued as new). */
  runId?: string;
  traveller: Traveller;
  /** The booking the path ends, when it ends one. */
  bookingId?: string;
  /** How the booking is read when its traveller can no longer sign in; over HTTP as the traveller otherwise. */
  readBooking?: () => Promise<BookingView>;
}

export interface Booked extends Started {
  bookingId: string;
}

export interface Offer {
  offerId: string;
  price: { amount: string; currency: string };
}

export function log(line: string) {
  process.stdout.write(`[record] ${line}\n`);
}

export async function call(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the error message
  }
  return { status: response.status, body };
}

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the sandbox suppliers' faults -------------------------------------------------------

/** The flight sandbox, and the hotel supplier (StayBridge) it serves under /hotels: each has its own faults. */
export type Supplier = 'flights' | 'hotels';
const controlUrl: Record<Supplier, string> = { flights: `${sandboxUrl}/_control/faults`, hotels: `${hotelUrl}/_control/faults` };
const DEFAULT_FAULTS: Record<Supplier, Record<string, unknown>> = {
  flights: { latencyMs: 0, errorRate: 0, timeoutRate: 0, soldOut: [], rejectConfirm: false, failRelease: false, priceIncreasePercent: 0, holdTotalDriftMinor: 0 },
  hotels: { latencyMs: 0, errorRate: 0, timeoutRate: 0, soldOut: [], rejectConfirm: false, failRelease: false, priceIncreasePercent: 0 },
};

/** The suppliers faults of ours may be set at, so an interrupted run still resets them. */
const faultsSet = new Set<Supplier>();

export async function putFaults(faults: Record<string, unknown>, supplier: Supplier = 'flights'): Promise<{ ok: boolean; status: number; body: unknown }> {
  if (Object.keys(faults).length > 0) faultsSet.add(supplier);
  const answer = await call(controlUrl[supplier], {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  if (Object.keys(faults).length === 0 && answer.status === 200) faultsSet.delete(supplier);
  return { ok: answer.status === 200, ...answer };
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    const reset = Promise.all([...faultsSet].map((supplier) => putFaults({}, supplier))).then(() => log('interrupted: sandbox faults reset to {}'));
    void reset.catch(() => log('interrupted: resetting the sandbox faults FAILED; PUT {} to /_control/faults')).finally(() => process.exit(130));
  });
}

export async function resetFaults(supplier: Supplier = 'flights') {
  const answer = await putFaults({}, supplier);
  if (!answer.ok) throw new Error(`resetting the ${supplier} sandbox faults failed: ${answer.status} ${JSON.stringify(answer.body)}`);
}

/** Runs `body` with the given faults set at one supplier, and resets them to {} afterwards whatever happens. */
export async function withFaults<T>(faults: Record<string, unknown>, body: () => Promise<T>, supplier: Supplier = 'flights'): Promise<T> {
  const answer = await putFaults(faults, supplier);
  try {
    if (!answer.ok) throw new Error(`setting ${supplier} sandbox faults ${JSON.stringify(faults)} failed: ${answer.status} ${JSON.stringify(answer.body)}`);
    log(`  ${supplier} sandbox faults ${JSON.stringify(faults)}`);
    return await body();
  } finally {
    await resetFaults(supplier);
    log(`  ${supplier} sandbox faults reset to {}`);
  }
}

/** Refuses to record when someone else's faults are set at a supplier: they may be using it. */
export async function assertSuppliersUntouched() {
  for (const supplier of ['flights', 'hotels'] as const) {
    const faults = await call(controlUrl[supplier]);
    if (faults.status !== 200) throw new Error(`the ${supplier} sandbox does not answer at ${controlUrl[supplier]}`);
    const untouched = Object.entries(faults.body as Record<string, unknown>).every(
      ([key, value]) => JSON.stringify(value) === JSON.stringify(DEFAULT_FAULTS[supplier][key]),
    );
    if (!untouched) throw new Error(`the ${supplier} sandbox already has faults set (${JSON.stringify(faults.body)}): someone may be using it; not recording`);
  }
}

// ---- the API, as a client would call it --------------------------------------------------

/**
 * A new account, signed up over HTTP. Signups are limited per client address (10 a day): with the
 * API trusting loopback as its proxy (TRUSTED_PROXIES=127.0.0.1,::1) each traveller signs up from its own.
 */
export async function newTraveller(): Promise<Traveller> {
  const ip = randomClientIp();
  const { userId, email, password, auth } = await signUpOverHttp(apiUrl, { headers: { 'x-forwarded-for': ip } });
  const passport = `X${randomUUID().replaceAll('-', '').slice(0, 8).toUpperCase()}`;
  // The account's own address last: it is never sent with a booking, and must not reach a history either.
  return { userId, email, password, ip, auth, pii: [passport, '+447700900123', '1985-12-10', 'ada.lovelace@example.com', 'Lovelace', email] };
}

/** Departure days in March 2027: the running sandbox keeps holds and confirmed seats. */
const marchDays = Array.from({ length: 28 }, (_, i) => `2027-03-${String(i + 1).padStart(2, '0')}`);
/**
 * The days in a random order: search answers are cached, so the seats left they show can be stale,
 * and runs that all start on the first day sell it out (SOLD_OUT at the hold).
 */
const shuffledDays = () => marchDays.map((day) => ({ day, key: Math.random() })).sort((a, b) => a.key - b.key).map(({ day }) => day);

export async function findOffer(fareRule?: string, days: string[] = shuffledDays()): Promise<Offer> {
  for (const date of days) {
    const params = new URLSearchParams({ origin: 'JFK', destination: 'LHR', departureDate: date, adults: '1' });
    const { status, body } = await call(`${apiUrl}/api/v1/search/flights?${params}`);
    if (status !== 200) throw new Error(`search answered ${status}: ${JSON.stringify(body)}`);
    const offers = (body as { offers: Array<Offer & { details?: { seatsLeft?: number; fareRule?: string } }> }).offers;
    const offer = offers.find((o) => (o.details?.seatsLeft ?? 1) >= 1 && (!fareRule || o.details?.fareRule === fareRule));
    if (offer) return offer;
  }
  throw new Error('no offer with a seat left found');
}

/** A flight and a London room for three nights from the same day, as a traveller would put them in one booking. */
export async function findFlightAndHotel(traveller: Traveller): Promise<[Offer, Offer]> {
  const day = marchDays[Math.floor(Math.random() * marchDays.length)]!;
  const flight = await findOffer(undefined, [day]);
  const checkOut = new Date(Date.parse(day) + 3 * 86_400_000).toISOString().slice(0, 10);
  const params = new URLSearchParams({ city: 'LON', checkIn: day, checkOut, guests: '1' });
  const { status, body } = await call(`${apiUrl}/api/v1/search/hotels?${params}`, { headers: traveller.auth });
  if (status !== 200) throw new Error(`hotel search answered ${status}: ${JSON.stringify(body)}`);
  const [hotel] = (body as { offers: Offer[] }).offers;
  if (!hotel) throw new Error(`no room in London from ${day}`);
  return [flight, hotel];
}

export async function book(traveller: Traveller, paymentMethodId: string, offers?: Offer[]): Promise<Booked> {
  const chosen = offers ?? [await findOffer()];
  const [passportNumber, phone, dateOfBirth, contactEmail, familyName] = traveller.pii;
  const key = randomUUID();
  const { status, body } = await call(`${apiUrl}/api/v1/bookings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...traveller.auth, 'idempotency-key': key },
    body: JSON.stringify({
      offers: chosen.map((o) => ({ offerId: o.offerId, expectedPrice: o.price })),
      passengers: [{ givenName: 'Ada', familyName, dateOfBirth, passportNumber, passportCountry: 'GB', nationality: 'GB' }],
      contact: { email: contactEmail, phone },
      paymentMethodId,
    }),
  });
  if (status !== 202) throw new Error(`booking answered ${status}: ${JSON.stringify(body)}`);
  const { bookingId } = body as BookingView;
  // The API names the saga booking-<user>-<idempotency key> (README, "A booking by hand").
  return { bookingId, workflowId: bookingWorkflowId(traveller.userId, key), traveller };
}

export async function cancel(started: Booked): Promise<void> {
  const { status, body } = await call(`${apiUrl}/api/v1/bookings/${started.bookingId}/cancel`, {
    method: 'POST',
    headers: { ...started.traveller.auth, 'idempotency-key': randomUUID() },
  });
  if (status !== 202) throw new Error(`cancel answered ${status}: ${JSON.stringify(body)}`);
}

export async function getBooking(started: Booked): Promise<BookingView> {
  if (started.readBooking) return started.readBooking();
  const { status, body } = await call(`${apiUrl}/api/v1/bookings/${started.bookingId}`, {
    headers: { ...started.traveller.auth },
  });
  if (status !== 200) throw new Error(`reading booking ${started.bookingId} answered ${status}`);
  return body as BookingView;
}

export async function awaitStatus(started: Booked, accept: (status: string) => boolean, timeoutMs: number, what: string): Promise<BookingView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const booking = await getBooking(started);
    if (accept(booking.status)) return booking;
    if (Date.now() > deadline) throw new Error(`booking ${started.bookingId} stayed ${booking.status}, waited for ${what}`);
    await pause(250);
  }
}

/** The account deleted by its owner (DELETE /users/me): sessions end now, the erasure follows the grace period. */
export async function deleteAccount(traveller: Traveller): Promise<{ workflowId: string; scheduledFor: string }> {
  const { status, body } = await call(`${apiUrl}/api/v1/users/me`, {
    method: 'DELETE',
    headers: { 'content-type': 'application/json', ...traveller.auth },
    body: JSON.stringify({ password: traveller.password }),
  });
  if (status !== 202) throw new Error(`deleting the account answered ${status}: ${JSON.stringify(body)}`);
  // api/users.service.ts names the workflow after the account.
  return { workflowId: `account-deletion-${traveller.userId}`, scheduledFor: (body as { deletionScheduledFor: string }).deletionScheduledFor };
}

/** Signs in again over HTTP: a new access token carries the account's role as it is now. */
export async function signInAgain(traveller: Traveller): Promise<Traveller> {
  const { status, body } = await call(`${apiUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': traveller.ip },
    body: JSON.stringify({ email: traveller.email, password: traveller.password, tokenDelivery: 'body' }),
  });
  if (status !== 200) throw new Error(`signing in answered ${status}: ${JSON.stringify(body)}`);
  return { ...traveller, auth: { authorization: `Bearer ${(body as { accessToken: string }).accessToken}` } };
}

/** Makes the account an admin as README makes the first one (an UPDATE in Postgres), and signs it in again to carry the role. */
export async function promoteToAdmin(traveller: Traveller): Promise<Traveller> {
  const orm = await createOrm(config.database);
  try {
    await orm.em.getConnection().execute(`update users set role = 'admin' where id = ?`, [traveller.userId]);
  } finally {
    await orm.close();
  }
  return signInAgain(traveller);
}

/** An admin's refund of everything captured (POST /admin/bookings/{id}/refund): answers the refund workflow's id. */
export async function refundAsAdmin(admin: Traveller, bookingId: string): Promise<string> {
  const { status, body } = await call(`${apiUrl}/api/v1/admin/bookings/${bookingId}/refund`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...admin.auth, 'idempotency-key': randomUUID() },
    body: JSON.stringify({ reason: 'recorded for the replay test' }),
  });
  if (status !== 202) throw new Error(`the refund answered ${status}: ${JSON.stringify(body)}`);
  return (body as { refundId: string }).refundId;
}

/** Delivers a Stripe event to the API's webhook endpoint, signed with the webhook secret as Stripe signs it. */
export async function deliverWebhook(stripe: Stripe, type: string, object: object): Promise<void> {
  const payload = JSON.stringify({ id: `evt_${randomUUID().replaceAll('-', '')}`, object: 'event', type, created: Math.floor(Date.now() / 1000), data: { object } });
  const header = await stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: config.stripe.webhookSecret });
  const { status, body } = await call(`${apiUrl}/api/v1/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': header },
    body: payload,
  });
  if (status !== 200 || (body as { handled?: boolean }).handled !== true) throw new Error(`the webhook answered ${status}: ${JSON.stringify(body)}`);
}

/** The Stripe fake's hook that ends the processing of a `pm_card_processing` PaymentIntent (dev/stripe/stripe_fake.py). */
export async function settleAtStripeFake(paymentIntentId: string): Promise<void> {
  const { status, body } = await call(`${config.stripe.apiUrl}/_tc/settle`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ paymentIntent: paymentIntentId }),
  });
  if (status !== 200) throw new Error(`settling at the Stripe fake answered ${status}: ${JSON.stringify(body)}: it may run a shim older than this checkout`);
}

// ---- the workflows -----------------------------------------------------------------------

/** Waits until the workflow's history so far satisfies `accept` (polled). */
export async function awaitHistory(
  temporal: Client,
  workflowId: string,
  accept: (events: proto.api.history.v1.IHistoryEvent[]) => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!accept((await temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? [])) {
    if (Date.now() > deadline) throw new Error(`${workflowId}: waited for ${what}`);
    await pause(100);
  }
}

/** The PaymentIntent the saga created, read from the authorizing activity's result in its history. */
export async function paymentIntentOf(temporal: Client, codec: PayloadCodec, workflowId: string): Promise<string> {
  const events = (await temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  // authorizePayment before payment-intent-first, confirmPaymentIntent since: both answer the PaymentIntent.
  const scheduled = events.find((e) => ['authorizePayment', 'confirmPaymentIntent'].includes(e.activityTaskScheduledEventAttributes?.activityType?.name ?? ''));
  const completed = events.find(
    (e) => scheduled && String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === String(scheduled.eventId),
  );
  const payload = completed?.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
  if (!payload) throw new Error(`no completed authorization in ${workflowId}`);
  const [decoded] = await codec.decode([payload]);
  return defaultPayloadConverter.fromPayload<{ paymentIntentId: string }>(decoded!).paymentIntentId;
}

/** Triggers a Schedule the worker created and answers the id of the run it started. */
export async function triggerSchedule(temporal: Client, scheduleId: string): Promise<string> {
  const schedule = temporal.schedule.getHandle(scheduleId);
  const before = (await schedule.describe()).info.recentActions.length;
  await schedule.trigger();
  const deadline = Date.now() + 30_000;
  for (;;) {
    const actions = (await schedule.describe()).info.recentActions;
    const latest = actions.at(-1)?.action;
    if (actions.length > before && latest?.type === 'startWorkflow') return latest.workflow.workflowId;
    if (Date.now() > deadline) throw new Error(`the ${scheduleId} schedule did not start a run`);
    await pause(250);
  }
}

/** The first run of a workflow type on this stack's task queue started at or after `since` (visibility lags: polled). */
export async function firstStartedSince(temporal: Client, workflowType: string, since: Date): Promise<string> {
  const query = `WorkflowType = '${workflowType}' AND TaskQueue = '${config.temporal.taskQueue}' AND StartTime >= '${since.toISOString()}'`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const runs: Array<{ workflowId: string; startTime: Date }> = [];
    for await (const run of temporal.workflow.list({ query })) runs.push(run);
    const first = runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime())[0];
    if (first) return first.workflowId;
    if (Date.now() > deadline) throw new Error(`no ${workflowType} started since ${since.toISOString()}`);
    await pause(250);
  }
}
