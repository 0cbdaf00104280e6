import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { holdReference } from '../../activities/booking.activities.js';
import { auditAppender } from '../../infra/audit/audit-log.js';
import { loadConfig } from '../../infra/config.js';
import { AuditEntry, BookingItem, Payment } from '../../infra/db/entities.js';
import { createReconciliationStore } from '../../infra/db/reconciliation.store.js';
import { createProviders } from '../../infra/providers/registry.js';
import type { ReconciliationInput, ReconciliationTotals } from '../../workflows/reconciliation.workflow.js';
import { json, travellerOf, type BookingJson } from '../support/booking-client.js';
import { eventually } from '../support/eventually.js';
import { createMigratedDatabase } from '../support/migrated-database.js';
import { signIn } from '../support/sign-in.js';
import { startStack, type Stack } from '../support/stack.js';
import { completeChallenge, threeDSecureCard } from '../support/three-d-secure.js';

const METRICS_TOKEN = 'reconciliation-metrics-token-0123456789';
let stack: Stack;
let database: Awaited<ReturnType<typeof createMigratedDatabase>>;
let admin: Awaited<ReturnType<typeof signIn>>;
let support: Awaited<ReturnType<typeof signIn>>;
beforeAll(async () => {
  // A database of its own: a full run looks at every booking touched since the last one, and the
  // other test files' bookings (hundreds, made meanwhile) would make its runs slow and its figures theirs.
  database = await createMigratedDatabase(
    loadConfig({ ...process.env, NODE_ENV: 'test', DATABASE_URL: inject('databaseUrl'), MIGRATION_DATABASE_URL: inject('migrationDatabaseUrl') }),
    'tc_test',
  );
  stack = await startStack({
    env: { COMPENSATION_ALERT_ATTEMPTS: '2', METRICS_TOKEN, METRICS_CACHE_MS: '1', DATABASE_URL: database.database.url, MIGRATION_DATABASE_URL: database.migrationDatabase.url },
  });
  admin = await signIn(stack, { role: 'admin' });
  support = await signIn(stack, { role: 'support' });
});
afterAll(async () => {
  await stack?.stop();
  await database?.drop();
});

/** A run on demand for these bookings, on this stack's worker. */
const reconcile = (input: ReconciliationInput) =>
  stack.temporal.workflow.execute('reconciliationWorkflow', { taskQueue: stack.taskQueue, workflowId: `reconcile-${randomUUID()}`, args: [input] }) as Promise<ReconciliationTotals>;

const admin$ = (path: string, who: { auth: Record<string, string> }, init: RequestInit = {}) =>
  stack.app.request(`/api/v1/admin/cases${path}`, { ...init, headers: { ...who.auth, 'content-type': 'application/json', ...(init.headers ?? {}) } });
const resolve = (caseId: string, who: { auth: Record<string, string> }, body: unknown) =>
  admin$(`/${caseId}/resolve`, who, { method: 'POST', body: JSON.stringify(body) });

async function casesOf(bookingId: string, query: string): Promise<BookingJson[]> {
  const response = await admin$(`?limit=100&${query}`, support);
  expect(response.status).toBe(200);
  return ((await json(response)).items as BookingJson[]).filter((c) => c.bookingId === bookingId);
}

/** A 3-D Secure booking waiting for its challenge (seat held, PaymentIntent requires_action) whose saga an operator terminated. */
async function terminatedAwaitingPayment() {
  const traveller = await travellerOf(stack);
  const { bookingId } = await json(await traveller.book(await traveller.bookingBody({ paymentMethodId: await threeDSecureCard(stack.stripe) })));
  await traveller.reaches(bookingId, 'AWAITING_PAYMENT');
  const em = stack.orm.em.fork();
  const [item] = await em.find(BookingItem, { booking: bookingId });
  const [payment] = await em.find(Payment, { booking: bookingId });
  const workflowId = (await em.getConnection().execute<Array<{ workflow_id: string }>>('select workflow_id from bookings where id = ?', [bookingId]))[0]!.workflow_id;
  await stack.temporal.workflow.getHandle(workflowId).terminate('operator: test');
  return { traveller, bookingId, item: item!, payment: payment!, workflowId };
}

describe('the reconciler', () => {
  it('opens SAGA_TERMINATED for a saga terminated mid-way, releases its hold and voids its authorization (audited); operators list and resolve it', async () => {
    // A 3-D Secure booking waits with its seat held; the saga is terminated; the traveller then
    // completes the challenge, so Stripe holds the funds of a booking nobody will finish.
    const { traveller, bookingId, item, payment, workflowId } = await terminatedAwaitingPayment();
    await completeChallenge({ apiUrl: stack.config.stripe.apiUrl!, secretKey: stack.config.stripe.secretKey, client: stack.stripe }, payment.paymentIntentId, true);
    const provider = createProviders(stack.config.providers).get(item.provider)!;
    const reference = holdReference(workflowId, item.offerId);
    expect((await provider.findHold(reference))?.state).toBe('HELD');
    await eventually(() => stack.stripe.paymentIntents.retrieve(payment.paymentIntentId), (pi) => pi.status === 'requires_capture', { what: 'the authorization' });

    const first = await reconcile({ bookingIds: [bookingId] });
    expect(first).toMatchObject({ examined: 1, opened: 3, repaired: 2 });
    expect((await provider.findHold(reference))?.state).toBe('RELEASED');
    expect((await stack.stripe.paymentIntents.retrieve(payment.paymentIntentId)).status).toBe('canceled');
    const fresh = stack.orm.em.fork();
    expect((await fresh.findOneOrFail(BookingItem, { id: item.id })).state).toBe('RELEASED');
    expect((await fresh.findOneOrFail(Payment, { id: payment.id })).status).toBe('VOIDED');
    const trail = await fresh.find(AuditEntry, { resource: `booking:${bookingId}`, actor: 'system:reconciler' });
    expect(trail.map((row) => row.action).sort()).toEqual(
      ['payment.status_changed', 'reconciliation.authorization_voided', 'reconciliation.case_opened', 'reconciliation.case_opened', 'reconciliation.case_opened', 'reconciliation.hold_released'].sort(),
    );
    expect(JSON.stringify(trail.map((row) => row.details))).not.toMatch(/Ada|Lovelace|example\.com|\+4477/);

    // What was repaired is on record, resolved by the reconciler; the termination waits for an operator.
    const repaired = await casesOf(bookingId, 'status=resolved');
    expect(repaired.map((c) => c.kind).sort()).toEqual(['ORPHAN_AUTHORIZATION', 'ORPHAN_HOLD']);
    for (const c of repaired) expect(c.resolvedBy).toBe('system:reconciler');
    const [open, ...more] = await casesOf(bookingId, 'status=open&kind=SAGA_TERMINATED');
    expect(more).toEqual([]);
    expect(open).toMatchObject({ kind: 'SAGA_TERMINATED', resolvedAt: null, evidence: { execution: 'TERMINATED', bookingStatus: 'AWAITING_PAYMENT' } });
    const metrics = await (await fetch(`${stack.apiUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    expect(Number(/reconciliation_cases_open\{kind="SAGA_TERMINATED"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);

    // A second run finds nothing new to do, and repairs nothing twice.
    expect(await reconcile({ bookingIds: [bookingId] })).toMatchObject({ examined: 1, opened: 0, repaired: 0 });

    // Support reads, only admin resolves; travellers find nothing there.
    expect((await admin$('', traveller)).status).toBe(404);
    expect((await resolve(open!.id, support, { resolution: 'looked at it' })).status).toBe(404);
    expect((await resolve(open!.id, admin, { resolution: 'x', undo: 'void-payment' })).status).toBe(409);
    expect((await resolve(open!.id, admin, { resolution: '' })).status).toBe(400);
    const resolved = await resolve(open!.id, admin, { resolution: 'Saga terminated by an operator; hold and authorization released by the reconciler.' });
    expect(resolved.status).toBe(200);
    expect(await json(resolved)).toMatchObject({ id: open!.id, resolvedBy: `user:${admin.userId}`, resolution: expect.stringContaining('terminated') });
    expect((await resolve(open!.id, admin, { resolution: 'again' })).status).toBe(409);
    expect(await casesOf(bookingId, 'status=open')).toEqual([]);
    const audit = await stack.orm.em.fork().find(AuditEntry, { resource: `reconciliation_case:${open!.id}`, action: 'admin.cases.resolve' });
    expect(audit.map((row) => row.result).sort()).toEqual(['refused', 'refused', 'success']);

    // A terminated saga stays terminated: once resolved, its case is not opened again.
    expect(await reconcile({ bookingIds: [bookingId] })).toMatchObject({ opened: 0 });
    expect(await casesOf(bookingId, 'status=open')).toEqual([]);
  });

  it('a stuck undo: SAGA_NEEDS_ATTENTION, resolved with the saga\'s resolveUndo (a name that is not stuck is 409)', async () => {
    const traveller = await travellerOf(stack);
    await stack.setFaults({ failRelease: true });
    try {
      const { bookingId } = await json(await traveller.book(await traveller.bookingBody({ paymentMethodId: 'pm_card_visa_chargeDeclined' })));
      await traveller.reaches(bookingId, 'NEEDS_ATTENTION', 60_000);
      const [item] = await stack.orm.em.fork().find(BookingItem, { booking: bookingId });
      expect(await reconcile({ bookingIds: [bookingId] })).toMatchObject({ opened: 1, repaired: 0 });
      const [stuck] = await casesOf(bookingId, 'status=open&kind=SAGA_NEEDS_ATTENTION');
      expect(stuck?.evidence).toMatchObject({ sagaStatus: 'NEEDS_ATTENTION', failureCode: 'COMPENSATION_STUCK' });
      // The saga's validator refuses an undo that is not stuck: the case stays open.
      expect((await resolve(stuck!.id, admin, { resolution: 'voided by hand', undo: 'void-payment' })).status).toBe(409);
      expect(await casesOf(bookingId, 'status=open&kind=SAGA_NEEDS_ATTENTION')).toHaveLength(1);
      const done = await resolve(stuck!.id, admin, { resolution: 'released at the supplier by phone', undo: `release-hold:${item!.offerId}` });
      expect(done.status).toBe(200);
      expect((await traveller.settled(bookingId)).status).toBe('FAILED');
    } finally {
      await stack.setFaults({ failRelease: false });
    }
  });

  it('a run goes on past a booking it cannot read, and keeps the watermark so the next run reads it; nothing readable fails the run', async () => {
    const store = createReconciliationStore(stack.orm, { audit: auditAppender(stack.config.audit.hmacKey) });
    const traveller = await travellerOf(stack);
    const { bookingId } = await json(await traveller.book(await traveller.bookingBody()));
    expect((await traveller.settled(bookingId)).status).toBe('CONFIRMED');
    // A booking with nothing at a supplier stays readable while the supplier is down.
    const readable = randomUUID();
    await stack.orm.em.getConnection().execute(
      `insert into bookings (id, user_id, workflow_id, idempotency_key, request_hash, status, total_minor, currency, passengers, contact_email, contact_phone, created_at, updated_at)
       values (?, ?, ?, ?, ?, 'FAILED', 100, 'EUR', '[]', 'x@example.test', 'c', now(), now())`,
      [readable, traveller.userId, `booking-seeded-${readable}`, randomUUID(), '0'.repeat(64)],
    );
    await reconcile({});
    const { since } = await store.begin();

    await stack.setFaults({ errorRate: 1 });
    try {
      const outage = await reconcile({ pageSize: 2 });
      expect(outage.unreadable).toBeGreaterThanOrEqual(1);
      expect(outage.examined).toBeGreaterThanOrEqual(1);
      // Nothing of it could be read: the run fails, and says so.
      await expect(reconcile({ bookingIds: [bookingId] })).rejects.toThrow();
    } finally {
      await stack.setFaults({ errorRate: 0 });
    }
    expect((await store.begin()).since).toBe(since);

    // The supplier is back: the next run reads everything, and the watermark moves on.
    expect(await reconcile({})).toMatchObject({ unreadable: 0 });
    expect(Date.parse((await store.begin()).since!)).toBeGreaterThan(Date.parse(since!));
  });

  it('a full run looks at bookings touched since the last one, still in flight, or with an open case', async () => {
    const store = createReconciliationStore(stack.orm, { audit: auditAppender(stack.config.audit.hmacKey) });
    const { since, startedAt } = await store.begin();
    expect(Date.parse(startedAt)).not.toBeNaN();
    // Seeded: an old, terminal booking (not looked at) and an old one still HELD (looked at).
    const traveller = await signIn(stack);
    const ids = { old: randomUUID(), inFlight: randomUUID() };
    for (const [id, status] of [[ids.old, 'FAILED'], [ids.inFlight, 'HELD']] as const) {
      await stack.orm.em.getConnection().execute(
        `insert into bookings (id, user_id, workflow_id, idempotency_key, request_hash, status, total_minor, currency, passengers, contact_email, contact_phone, created_at, updated_at)
         values (?, ?, ?, ?, ?, ?, 100, 'EUR', '[]', 'x@example.test', 'c', now() - interval '1 day', now() - interval '1 day')`,
        [id, traveller.userId, `booking-seeded-${id}`, randomUUID(), '0'.repeat(64), status],
      );
    }
    const everything: string[] = [];
    const recent = new Date(Date.now() - 60 * 60_000).toISOString();
    for (let after: string | undefined; ; ) {
      const page = await store.candidates({ since: recent, limit: 50, ...(after ? { after } : {}) });
      everything.push(...page);
      if (page.length < 50) break;
      after = page.at(-1);
    }
    expect(everything).toContain(ids.inFlight);
    expect(everything).not.toContain(ids.old);
    expect([...everything].sort()).toEqual(everything); // keyset by id, no repeats
    expect(new Set(everything).size).toBe(everything.length);
    await store.finish(startedAt);
    const next = await store.begin();
    expect(next.since).not.toBeNull();
    expect(Date.parse(next.since!)).toBeLessThan(Date.parse(startedAt));
    expect(since === null || Date.parse(next.since!) >= Date.parse(since)).toBe(true);
  });
});

describe('a booking whose saga an operator terminated', () => {
  it('cannot be cancelled by its traveller: 409 BOOKING_NOT_CANCELLABLE, not 500', async () => {
    const { traveller, bookingId } = await terminatedAwaitingPayment();
    const cancel = () => stack.app.request(`/api/v1/bookings/${bookingId}/cancel`, { method: 'POST', headers: { ...traveller.auth, 'idempotency-key': randomUUID() } });
    const response = await cancel();
    expect(response.status).toBe(409);
    expect(await json(response)).toMatchObject({ code: 'BOOKING_NOT_CANCELLABLE', detail: expect.stringContaining('no longer') });
    // For ever the same answer, and the booking is untouched.
    expect((await cancel()).status).toBe(409);
    expect((await json(await traveller.get(bookingId))).status).toBe('AWAITING_PAYMENT');
  });

  it('the reconciler cancels its PaymentIntent still waiting for the challenge, so the traveller cannot authorize it afterwards', async () => {
    const { bookingId, payment } = await terminatedAwaitingPayment();
    expect((await stack.stripe.paymentIntents.retrieve(payment.paymentIntentId)).status).toBe('requires_action');

    expect(await reconcile({ bookingIds: [bookingId] })).toMatchObject({ examined: 1, opened: 3, repaired: 2 });
    expect((await stack.stripe.paymentIntents.retrieve(payment.paymentIntentId)).status).toBe('canceled');
    expect((await stack.orm.em.fork().findOneOrFail(Payment, { id: payment.id })).status).toBe('VOIDED');
    const trail = await stack.orm.em.fork().find(AuditEntry, { resource: `booking:${bookingId}`, action: 'reconciliation.payment_cancelled' });
    expect(trail.map((row) => row.details)).toEqual([{ paymentIntentId: payment.paymentIntentId }]);
    const [cancelled, ...more] = await casesOf(bookingId, 'status=resolved&kind=ORPHAN_AUTHORIZATION');
    expect(more).toEqual([]);
    expect(cancelled).toMatchObject({ resolvedBy: 'system:reconciler', resolution: expect.stringContaining('payment cancelled'), evidence: { paymentStatuses: 'requires_action' } });

    // The bank's challenge, completed late, authorizes nothing.
    await completeChallenge({ apiUrl: stack.config.stripe.apiUrl!, secretKey: stack.config.stripe.secretKey, client: stack.stripe }, payment.paymentIntentId, true).catch(() => undefined);
    expect((await stack.stripe.paymentIntents.retrieve(payment.paymentIntentId)).status).toBe('canceled');
    expect(await reconcile({ bookingIds: [bookingId] })).toMatchObject({ opened: 0, repaired: 0 });
  });
});
