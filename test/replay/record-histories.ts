import { signUpOverHttp } from '../support/http-account.js';
import { TERMINAL_STATUSES } from '../../domain/booking-status.js';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type Stripe from 'stripe';
import { loadConfig } from '../../infra/config.js';
import { createStripeClient } from '../../infra/stripe/stripe.gateway.js';
import { createTemporalClient } from '../../infra/temporal/connection.js';
import { createEncryptionCodec } from '../../infra/temporal/encryption-codec.js';
import { encryptedDataConverter } from '../../infra/temporal/data-converter.js';
import { createKmsKeyService } from '../../infra/kms/kms.key-service.js';
import type { PayloadCodec } from '@temporalio/common';
import { payloadTexts } from './payloads.js';
import { completeChallenge, threeDSecureCard } from '../support/three-d-secure.js';

/**
 * `npm run record:histories [-- <path-name>...]`: drives every path of the booking saga
 * against the RUNNING stack (`npm run up`) over HTTP and writes each workflow's history,
 * as `temporal workflow show --output json` prints it, to test/replay/histories/<path-name>.json.
 * test/replay/replay.test.ts replays these against the current workflow code.
 *
 * Faults are set on the running sandbox provider only for as long as a path needs them
 * and are reset to {} afterwards, also when a path fails. Record again (and review the diff)
 * whenever a new path is added to the saga; never re-record to make a failing replay pass.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const historiesDir = fileURLToPath(new URL('./histories/', import.meta.url));
const temporalCli = `${root}.tools/bin/temporal`;

const config = loadConfig();
const apiHost = config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host;
const apiUrl = `http://${apiHost}:${config.api.port}`;
const sandboxUrl = config.providers.sandboxUrl;
/** The hold TTL the hold-expired path asks the sandbox for (the `holdTtlMs` fault). */
const SHORT_HOLD_TTL_MS = 8_000;

const TERMINAL: ReadonlySet<string> = TERMINAL_STATUSES;

interface BookingView {
  bookingId: string;
  status: string;
  failure?: { code: string; message: string };
}

interface Traveller {
  userId: string;
  auth: { authorization: string };
  /** Every PII value this traveller sent: none of them may appear in a recorded history. */
  pii: string[];
}

interface Started {
  bookingId: string;
  workflowId: string;
  traveller: Traveller;
}

interface Path {
  name: string;
  expected: { status: string; failureCode?: string };
  run(ctx: Context): Promise<Started>;
}

interface Context {
  temporal: Client;
  codec: PayloadCodec;
  stripe: Stripe;
}

function log(line: string) {
  process.stdout.write(`[record] ${line}\n`);
}

async function call(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
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

// ---- the sandbox provider's faults -------------------------------------------------------

const DEFAULT_FAULTS = { latencyMs: 0, errorRate: 0, timeoutRate: 0, soldOut: [], rejectConfirm: false, failRelease: false, priceIncreasePercent: 0, holdTotalDriftMinor: 0 };

/** Whether faults of ours may be set at the sandbox, so an interrupted run still resets them. */
let faultsSet = false;

async function putFaults(faults: Record<string, unknown>): Promise<{ ok: boolean; status: number; body: unknown }> {
  if (Object.keys(faults).length > 0) faultsSet = true;
  const answer = await call(`${sandboxUrl}/_control/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  if (Object.keys(faults).length === 0 && answer.status === 200) faultsSet = false;
  return { ok: answer.status === 200, ...answer };
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    const reset = faultsSet ? putFaults({}).then(() => log('interrupted: sandbox faults reset to {}')) : Promise.resolve();
    void reset.catch(() => log('interrupted: resetting the sandbox faults FAILED; PUT {} to /_control/faults')).finally(() => process.exit(130));
  });
}

async function resetFaults() {
  const answer = await putFaults({});
  if (!answer.ok) throw new Error(`resetting the sandbox faults failed: ${answer.status} ${JSON.stringify(answer.body)}`);
}

/** Runs `body` with the given faults set, and resets them to {} afterwards whatever happens. */
async function withFaults<T>(faults: Record<string, unknown>, body: () => Promise<T>): Promise<T> {
  const answer = await putFaults(faults);
  try {
    if (!answer.ok) throw new Error(`setting sandbox faults ${JSON.stringify(faults)} failed: ${answer.status} ${JSON.stringify(answer.body)}`);
    log(`  sandbox faults ${JSON.stringify(faults)}`);
    return await body();
  } finally {
    await resetFaults();
    log('  sandbox faults reset to {}');
  }
}

// ---- the API, as a client would call it --------------------------------------------------

async function newTraveller(): Promise<Traveller> {
  const { userId, auth } = await signUpOverHttp(apiUrl);
  const passport = `X${randomUUID().replaceAll('-', '').slice(0, 8).toUpperCase()}`;
  return { userId, auth, pii: [passport, '+447700900123', '1985-12-10', 'ada.lovelace@example.com', 'Lovelace'] };
}

async function findOffer(fareRule?: string): Promise<{ offerId: string; price: { amount: string; currency: string } }> {
  // The running sandbox keeps holds and confirmed seats: look for a flight with a seat left.
  for (let day = 1; day <= 28; day++) {
    const date = `2027-03-${String(day).padStart(2, '0')}`;
    const params = new URLSearchParams({ origin: 'JFK', destination: 'LHR', departureDate: date, adults: '1' });
    const { status, body } = await call(`${apiUrl}/api/v1/search/flights?${params}`);
    if (status !== 200) throw new Error(`search answered ${status}: ${JSON.stringify(body)}`);
    const offers = (body as { offers: Array<{ offerId: string; price: { amount: string; currency: string }; details?: { seatsLeft?: number; fareRule?: string } }> })
      .offers;
    const offer = offers.find((o) => (o.details?.seatsLeft ?? 1) >= 1 && (!fareRule || o.details?.fareRule === fareRule));
    if (offer) return offer;
  }
  throw new Error('no offer with a seat left found');
}

async function book(
  traveller: Traveller,
  paymentMethodId: string,
  offer?: { offerId: string; price: { amount: string; currency: string } },
): Promise<Started> {
  const chosen = offer ?? (await findOffer());
  const [passportNumber, phone, dateOfBirth, email, familyName] = traveller.pii;
  const key = randomUUID();
  const { status, body } = await call(`${apiUrl}/api/v1/bookings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...traveller.auth, 'idempotency-key': key },
    body: JSON.stringify({
      offers: [{ offerId: chosen.offerId, expectedPrice: chosen.price }],
      passengers: [{ givenName: 'Ada', familyName, dateOfBirth, passportNumber, passportCountry: 'GB', nationality: 'GB' }],
      contact: { email, phone },
      paymentMethodId,
    }),
  });
  if (status !== 202) throw new Error(`booking answered ${status}: ${JSON.stringify(body)}`);
  const { bookingId } = body as BookingView;
  // The API names the saga booking-<user>-<idempotency key> (README, "A booking by hand").
  return { bookingId, workflowId: `booking-${traveller.userId}-${key}`, traveller };
}

async function cancel(started: Started): Promise<void> {
  const { status, body } = await call(`${apiUrl}/api/v1/bookings/${started.bookingId}/cancel`, {
    method: 'POST',
    headers: { ...started.traveller.auth, 'idempotency-key': randomUUID() },
  });
  if (status !== 202) throw new Error(`cancel answered ${status}: ${JSON.stringify(body)}`);
}

async function getBooking(started: Started): Promise<BookingView> {
  const { status, body } = await call(`${apiUrl}/api/v1/bookings/${started.bookingId}`, {
    headers: { ...started.traveller.auth },
  });
  if (status !== 200) throw new Error(`reading booking ${started.bookingId} answered ${status}`);
  return body as BookingView;
}

async function awaitStatus(started: Started, accept: (status: string) => boolean, timeoutMs: number, what: string): Promise<BookingView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const booking = await getBooking(started);
    if (accept(booking.status)) return booking;
    if (Date.now() > deadline) throw new Error(`booking ${started.bookingId} stayed ${booking.status}, waited for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The PaymentIntent the saga created, read from the authorizePayment activity's result in its history. */
async function paymentIntentOf(temporal: Client, codec: PayloadCodec, workflowId: string): Promise<string> {
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
async function triggerSchedule(temporal: Client, scheduleId: string): Promise<string> {
  const schedule = temporal.schedule.getHandle(scheduleId);
  const before = (await schedule.describe()).info.recentActions.length;
  await schedule.trigger();
  const deadline = Date.now() + 30_000;
  for (;;) {
    const actions = (await schedule.describe()).info.recentActions;
    const latest = actions.at(-1)?.action;
    if (actions.length > before && latest?.type === 'startWorkflow') return latest.workflow.workflowId;
    if (Date.now() > deadline) throw new Error(`the ${scheduleId} schedule did not start a run`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A path that books once (so there is something to act on), then records the run a Schedule starts. */
function scheduledPath(scheduleId: string): Path {
  return {
    name: scheduleId,
    expected: { status: 'CONFIRMED' },
    async run({ temporal }) {
      const started = await book(await newTraveller(), 'pm_card_visa');
      await awaitStatus(started, (s) => TERMINAL.has(s), 90_000, 'CONFIRMED');
      return { ...started, workflowId: await triggerSchedule(temporal, scheduleId) };
    },
  };
}

// ---- the paths ---------------------------------------------------------------------------

const paths: Path[] = [
  {
    name: 'confirmed',
    expected: { status: 'CONFIRMED' },
    run: async () => book(await newTraveller(), 'pm_card_visa'),
  },
  {
    name: 'payment-declined',
    expected: { status: 'FAILED', failureCode: 'PAYMENT_DECLINED' },
    run: async () => book(await newTraveller(), 'pm_card_visa_chargeDeclined'),
  },
  {
    // A payment method Stripe does not know: refused at once, the hold released, nothing to void.
    name: 'payment-method-invalid',
    expected: { status: 'FAILED', failureCode: 'PAYMENT_METHOD_INVALID' },
    run: async () => book(await newTraveller(), 'pm_doesnotexist'),
  },
  {
    // 3-D Secure refused in the browser: the webhook wakes the saga, which reads the refusal.
    name: 'three-d-secure-refused',
    expected: { status: 'FAILED', failureCode: 'PAYMENT_DECLINED' },
    async run({ temporal, stripe, codec }) {
      const started = await book(await newTraveller(), await threeDSecureCard(stripe));
      await awaitStatus(started, (s) => s === 'AWAITING_PAYMENT' || TERMINAL.has(s), 60_000, 'AWAITING_PAYMENT');
      const paymentIntentId = await paymentIntentOf(temporal, codec, started.workflowId);
      await completeChallenge({ apiUrl: config.stripe.apiUrl, secretKey: config.stripe.secretKey, client: stripe }, paymentIntentId, false);
      return started;
    },
  },
  {
    name: 'three-d-secure-confirmed',
    expected: { status: 'CONFIRMED' },
    async run({ temporal, stripe, codec }) {
      const started = await book(await newTraveller(), await threeDSecureCard(stripe));
      await awaitStatus(started, (s) => s === 'AWAITING_PAYMENT' || TERMINAL.has(s), 60_000, 'AWAITING_PAYMENT');
      const paymentIntentId = await paymentIntentOf(temporal, codec, started.workflowId);
      await completeChallenge({ apiUrl: config.stripe.apiUrl, secretKey: config.stripe.secretKey, client: stripe }, paymentIntentId, true);
      return started;
    },
  },
  {
    name: 'provider-rejects-confirmation',
    expected: { status: 'FAILED', failureCode: 'PROVIDER_REJECTED' },
    run: () =>
      withFaults({ rejectConfirm: true }, async () => {
        const started = await book(await newTraveller(), 'pm_card_visa');
        await awaitStatus(started, (s) => TERMINAL.has(s), 90_000, 'a final status');
        return started;
      }),
  },
  {
    name: 'price-changed',
    expected: { status: 'FAILED', failureCode: 'PRICE_CHANGED' },
    async run() {
      const offer = await findOffer(); // the price the traveller was shown, before it rises
      const rise = config.providers.priceTolerancePercent + 10;
      return withFaults({ priceIncreasePercent: rise }, async () => {
        const started = await book(await newTraveller(), 'pm_card_visa', offer);
        await awaitStatus(started, (s) => TERMINAL.has(s), 90_000, 'a final status');
        return started;
      });
    },
  },
  {
    // Cancelled by the traveller while 3-D Secure is pending: the `cancel` update, then compensation.
    name: 'cancelled-before-confirmation',
    expected: { status: 'CANCELLED' },
    async run({ stripe }) {
      const started = await book(await newTraveller(), await threeDSecureCard(stripe));
      await awaitStatus(started, (s) => s === 'AWAITING_PAYMENT' || TERMINAL.has(s), 60_000, 'AWAITING_PAYMENT');
      await cancel(started);
      return started;
    },
  },
  {
    // Cancelled after confirmation: the cancellation workflow cancels at the provider and refunds per fare rule.
    name: 'cancelled-after-confirmation',
    expected: { status: 'REFUNDED' },
    async run() {
      const started = await book(await newTraveller(), 'pm_card_visa', await findOffer('STANDARD'));
      await awaitStatus(started, (s) => TERMINAL.has(s), 90_000, 'CONFIRMED');
      await cancel(started);
      return { ...started, workflowId: `cancel-${started.bookingId}` };
    },
  },
  {
    // An undo keeps failing (the provider refuses releases): NEEDS_ATTENTION, then done once it recovers.
    // Record with a small COMPENSATION_ALERT_ATTEMPTS in the API's environment, or this waits minutes.
    name: 'needs-attention-then-failed',
    expected: { status: 'FAILED', failureCode: 'PROVIDER_REJECTED' },
    run: () =>
      withFaults({ rejectConfirm: true, failRelease: true }, async () => {
        const started = await book(await newTraveller(), 'pm_card_visa');
        await awaitStatus(started, (s) => s === 'NEEDS_ATTENTION' || TERMINAL.has(s), 300_000, 'NEEDS_ATTENTION');
        return started;
      }),
  },
  // The daily retention purge and the stalled-work sweep, each triggered on the Schedule the worker created.
  scheduledPath('retention-purge'),
  scheduledPath('stalled-work-sweep'),
  scheduledPath('reconciliation'),
  {
    // 3-D Secure is asked for and never completed: the saga's timer on the hold's expiry fires.
    name: 'hold-expired',
    expected: { status: 'EXPIRED', failureCode: 'HOLD_EXPIRED' },
    async run({ stripe }) {
      const paymentMethodId = await threeDSecureCard(stripe);
      const probe = await putFaults({ holdTtlMs: SHORT_HOLD_TTL_MS });
      if (!probe.ok) {
        await resetFaults();
        log(
          `  the running sandbox refused the holdTtlMs fault (${probe.status}): it predates it; restart it to get short holds.` +
            ` Waiting out its own hold TTL instead (about ${Math.round(config.sandbox.holdTtlMs / 60_000)} min).`,
        );
        return book(await newTraveller(), paymentMethodId);
      }
      return withFaults({ holdTtlMs: SHORT_HOLD_TTL_MS }, async () => {
        const started = await book(await newTraveller(), paymentMethodId);
        // Only new holds take the short TTL: the fault can go as soon as the hold is taken.
        await awaitStatus(started, (s) => s !== 'PENDING', 60_000, 'the hold');
        return started;
      });
    },
  },
];

// ---- recording ---------------------------------------------------------------------------

/** `--as=<name>`: write <path>--<name>.json, for recording a released path again under a new patch. */
const suffix = process.argv.find((arg) => arg.startsWith('--as='))?.slice('--as='.length);
if (suffix !== undefined && !/^[a-z0-9-]{1,40}$/.test(suffix)) throw new Error('--as= takes a short kebab-case name');

async function record(path: Path, ctx: Context): Promise<void> {
  log(`${path.name}: starting`);
  const started = await path.run(ctx);
  log(`  ${started.workflowId}`);
  const timeoutMs = path.name === 'hold-expired' ? config.sandbox.holdTtlMs + 120_000 : 90_000;
  const booking = await awaitStatus(started, (s) => s === path.expected.status, timeoutMs, path.expected.status);
  if (booking.status !== path.expected.status || booking.failure?.code !== path.expected.failureCode) {
    throw new Error(`${path.name}: booking ended ${booking.status} ${booking.failure?.code ?? ''}, expected ${JSON.stringify(path.expected)}`);
  }
  // The final status is written by an activity just before the workflow returns: wait for the close.
  await ctx.temporal.workflow.getHandle(started.workflowId).result();

  const { stdout } = await promisify(execFile)(
    temporalCli,
    [
      'workflow', 'show',
      '--workflow-id', started.workflowId,
      '--output', 'json',
      '--address', config.temporal.address,
      '--namespace', config.temporal.namespace,
      '--color', 'never',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const history = JSON.parse(stdout) as { events?: Array<{ eventType?: string }> };
  const last = history.events?.at(-1)?.eventType;
  if (last !== 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED') throw new Error(`${path.name}: history ends with ${last}, not a completion`);

  // Workflow inputs carry no passenger data by design; make sure nothing leaked into any payload.
  const texts = [stdout, ...(await payloadTexts(history, ctx.codec))];
  const leaked = started.traveller.pii.filter((value) => texts.some((text) => text.includes(value)));
  if (leaked.length > 0) throw new Error(`${path.name}: the history carries PII (${leaked.length} value(s)); not written`);

  // A path recorded again after a patched() change keeps its old history and gets a new one beside it.
  const file = `${historiesDir}${path.name}${suffix ? `--${suffix}` : ''}.json`;
  await writeFile(file, stdout.endsWith('\n') ? stdout : `${stdout}\n`);
  log(`  ${booking.status}${booking.failure ? ` (${booking.failure.code})` : ''}: ${history.events?.length ?? 0} events -> test/replay/histories/${file.slice(historiesDir.length)}`);
}

async function main() {
  const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith('--as='));
  const unknown = wanted.filter((name) => !paths.some((p) => p.name === name));
  if (unknown.length > 0) throw new Error(`unknown path(s) ${unknown.join(', ')}; known: ${paths.map((p) => p.name).join(', ')}`);
  const selected = wanted.length > 0 ? paths.filter((p) => wanted.includes(p.name)) : paths;

  const health = await call(`${apiUrl}/healthz`).catch(() => undefined);
  if (health?.status !== 200) throw new Error(`the API does not answer at ${apiUrl}: start the stack with \`npm run up\``);
  const faults = await call(`${sandboxUrl}/_control/faults`);
  if (faults.status !== 200) throw new Error(`the sandbox provider does not answer at ${sandboxUrl}`);
  const current = faults.body as Record<string, unknown>;
  const untouched = Object.entries(current).every(([key, value]) => JSON.stringify(value) === JSON.stringify((DEFAULT_FAULTS as Record<string, unknown>)[key]));
  if (!untouched) {
    throw new Error(`the sandbox already has faults set (${JSON.stringify(faults.body)}): someone may be using it; not recording`);
  }

  const stripe = createStripeClient(config.stripe);
  // localstripe sends webhooks only to registered endpoints; `npm run up` registers this one, again is harmless.
  const registered = await call(`${config.stripe.apiUrl}/_config/webhooks/travelconnect-dev`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${apiUrl}/api/v1/webhooks/stripe`, secret: config.stripe.webhookSecret }),
  });
  if (registered.status >= 300) throw new Error(`registering the webhook at the Stripe fake failed: ${registered.status}`);

  // The production data converter, so results read back and payloads can be checked for PII.
  const keys = createKmsKeyService(config.kms);
  const codec = await createEncryptionCodec(keys);
  const temporal = await createTemporalClient(config.temporal, encryptedDataConverter(codec));
  await mkdir(historiesDir, { recursive: true });
  try {
    for (const path of selected) await record(path, { temporal, stripe, codec });
  } finally {
    await temporal.connection.close();
    keys.destroy();
  }
  log(`recorded ${selected.length} histor${selected.length === 1 ? 'y' : 'ies'}`);
}

try {
  await main();
} catch (error) {
  process.stderr.write(`[record] failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
