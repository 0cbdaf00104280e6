import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStalledWorkActivities } from '../../activities/stalled-work.activities.js';
import { BOOKING_ITEM_TRANSITIONS, BOOKING_TRANSITIONS, PAYMENT_TRANSITIONS } from '../../domain/booking-transitions.js';
import { createFieldCipher } from '../../infra/crypto/field-cipher.js';
import { auditAppender } from '../../infra/audit/audit-log.js';
import { createBookingRepository } from '../../infra/db/booking.repository.js';
import { createBookingRecordsStore } from '../../infra/db/booking-records.store.js';
import { bookingWorkflowId } from '../../domain/booking-ids.js';
import { createDataKeyStore } from '../../infra/db/data-key.store.js';
import { AuditEntry, Booking, BookingItem, Payment } from '../../infra/db/entities.js';
import { createStalledWorkStore } from '../../infra/db/stalled-work.store.js';
import { createProviders } from '../../infra/providers/registry.js';
import { createWorkflowStarter } from '../../infra/temporal/workflow-starter.js';
import { stalledWorkSweepWorkflow } from '../../workflows/stalled-work.workflow.js';
import { json, travellerOf } from '../support/booking-client.js';
import { eventually } from '../support/eventually.js';
import { probesOf } from '../support/probes.js';
import { pendingBookingRow } from '../support/booking-rows.js';
import { startStack, variantApp, type Stack } from '../support/stack.js';

// Every status change is conditional on the row's current status (domain/booking-transitions.ts):
// the stalled-work sweep and a late saga never both act on one booking, and a walked-away
// activity attempt cannot undo what the undo recorded.
let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const MINUTE = 60_000;
const policy = { mailAfterMs: 5 * MINUTE, mailGiveUpMs: 2 * 24 * 60 * MINUTE, bookingAfterMs: 15 * MINUTE, batchSize: 500 };
const runSweep = () =>
  stack.temporal.workflow.execute(stalledWorkSweepWorkflow, { taskQueue: stack.taskQueue, workflowId: `sweep-${randomUUID()}`, args: [policy] });
const rowOf = (bookingId: string) => stack.orm.em.fork().findOneOrFail(Booking, { id: bookingId });
const ageBooking = (bookingId: string) =>
  stack.orm.em.getConnection().execute(`update bookings set created_at = now() - interval '20 minutes' where id = ?`, [bookingId]);
const trailOf = async (bookingId: string) =>
  (await stack.orm.em.fork().find(AuditEntry, { resource: `booking:${bookingId}`, action: 'booking.status_changed' }, { orderBy: { seq: 'asc' } })).map(
    (row) => `${row.actor}:${row.result}`,
  );

/** The API on this stack, with `beforeStart` run (or thrown) where it starts a workflow: a lost start, or a race. */
function apiWhoseStart(beforeStart: () => Promise<void>) {
  const real = stack.temporal.workflow;
  const workflow = new Proxy(real, {
    get(target, property) {
      if (property === 'start') {
        return async (...args: Parameters<typeof real.start>) => {
          await beforeStart();
          return target.start(...args);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const temporal = new Proxy(stack.temporal, {
    get(target, property) {
      if (property === 'workflow') return workflow;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as Client;
  return variantApp(stack, {
    temporal,
    providers: createProviders(stack.config.providers),
    cipher: createFieldCipher({ keys: stack.keys, store: createDataKeyStore(stack.orm) }),
  });
}

/** A booking the API committed whose workflow start was lost (Temporal unreachable), past the sweep's age. */
async function bookingWithLostStart() {
  const traveller = await travellerOf(stack);
  const body = await traveller.bookingBody();
  const key = randomUUID();
  const lost = await apiWhoseStart(() => Promise.reject(new Error('Temporal is unreachable'))).request('/api/v1/bookings', {
    method: 'POST',
    headers: { ...traveller.auth, 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });
  expect(lost.status).toBeGreaterThanOrEqual(500);
  const row = await stack.orm.em.fork().findOneOrFail(Booking, { user: traveller.userId, idempotencyKey: key });
  expect(row.status).toBe('PENDING');
  await ageBooking(row.id);
  return { traveller, body, key, row };
}

/** What the provider, Stripe and Postgres hold for a booking's money and seats. */
async function sideEffectsOf(bookingId: string, workflowId: string) {
  const probes = probesOf(stack);
  return {
    hold: (await probes.holdOf(bookingId)).hold ?? null,
    stripeCalls: (await probes.stripeRequests()).filter((r) => r.idempotencyKey?.startsWith(`${workflowId}:`)).length,
    payments: await stack.orm.em.fork().count(Payment, { booking: bookingId }),
  };
}

describe('the stalled-work sweep against a late saga start', () => {
  it('sweep first, late start second: the booking stays FAILED NOT_STARTED, nothing held, nothing charged', async () => {
    const { traveller, body, key, row } = await bookingWithLostStart();

    // The client's retry reads the row PENDING and starts the saga; the sweep runs in between.
    const retry = await apiWhoseStart(async () => {
      await runSweep();
    }).request('/api/v1/bookings', {
      method: 'POST',
      headers: { ...traveller.auth, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
    expect(retry.status).toBe(200);
    const sagaEnded = await stack.temporal.workflow.getHandle(row.workflowId).result();
    expect(sagaEnded).toMatchObject({ status: 'FAILED', failure: { code: 'NOT_STARTED' } });

    const seen = await json(await traveller.get(row.id));
    expect(seen).toMatchObject({ status: 'FAILED', failure: { code: 'NOT_STARTED' }, payment: null });
    expect(await sideEffectsOf(row.id, row.workflowId)).toEqual({ hold: null, stripeCalls: 0, payments: 0 });
    expect(await trailOf(row.id)).toEqual(['system:stalled-work-sweep:FAILED']);
  });

  it('saga first, sweep second: the sweep leaves the booking to its saga, which confirms it', async () => {
    const { traveller, body, key, row } = await bookingWithLostStart();
    // A slow supplier keeps the saga between its first step and its hold while the sweep writes.
    await stack.setFaults({ latencyMs: 1_500 });
    try {
      const real = createWorkflowStarter(stack.temporal, stack.taskQueue);
      const sweep = createStalledWorkActivities({
        stalledWork: createStalledWorkStore(stack.orm, { audit: auditAppender(stack.config.audit.hmacKey) }),
        workflows: {
          startNotification: real.startNotification,
          // The sweep looked the workflow up just before the client's retry started it.
          async exists(workflowId) {
            if (workflowId !== row.workflowId) return real.exists(workflowId);
            expect((await traveller.book(body, key)).status).toBe(200);
            await eventually(() => firstStepDone(workflowId), (done) => done, { what: "the saga's first step" });
            return false;
          },
        },
      });
      await sweep.failUnstartedBookings({ before: new Date(Date.now() - policy.bookingAfterMs).toISOString(), limit: policy.batchSize });
    } finally {
      await stack.setFaults({});
    }

    const booking = await traveller.settled(row.id);
    expect(booking.status).toBe('CONFIRMED');
    expect(booking.failure).toBeUndefined();
    const trail = await trailOf(row.id);
    expect(trail.filter((entry) => entry.startsWith('system:stalled-work-sweep'))).toEqual([]);
    expect(trail.at(-1)).toBe('system:booking-saga:CONFIRMED');
  });
});

/** Whether the saga has completed its first activity (re-pricing, where it claims its row). */
async function firstStepDone(workflowId: string): Promise<boolean> {
  const history = await stack.temporal.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).some((event) => event.activityTaskCompletedEventAttributes);
}

describe('a walked-away activity attempt writing after the saga moved on', () => {
  const repository = () => createBookingRepository(stack.orm, { audit: auditAppender(stack.config.audit.hmacKey) });

  async function bookingRow() {
    const traveller = await travellerOf(stack);
    const em = stack.orm.em.fork();
    const booking = pendingBookingRow(em, traveller.userId);
    em.create(BookingItem, { id: randomUUID(), booking, offerId: 'sandbox:SBX-1', provider: 'sandbox', kind: 'flight', priceMinor: 12_300, currency: 'EUR', state: 'PENDING' });
    await em.flush();
    return booking.id;
  }
  const itemOf = (bookingId: string) => stack.orm.em.fork().findOneOrFail(BookingItem, { booking: bookingId });

  it('an item the undo RELEASED is not moved back to HELD by a late hold attempt', async () => {
    const bookingId = await bookingRow();
    const bookings = repository();
    await bookings.updateItem(bookingId, 'sandbox:SBX-1', { state: 'HELD', holdId: 'H-first', holdExpiresAt: new Date(Date.now() + MINUTE) });
    await bookings.updateItem(bookingId, 'sandbox:SBX-1', { state: 'RELEASED' });
    await bookings.updateItem(bookingId, 'sandbox:SBX-1', { state: 'HELD', holdId: 'H-late', holdExpiresAt: new Date(Date.now() + MINUTE) });
    expect(await itemOf(bookingId)).toMatchObject({ state: 'RELEASED', holdId: 'H-first' });
  });

  it('a CONFIRMED booking is not moved to FAILED by a late status write, and no audit row says it was', async () => {
    const bookingId = await bookingRow();
    const bookings = repository();
    for (const status of ['STARTED', 'HELD', 'CONFIRMED']) await bookings.setStatus(bookingId, status);
    const late = await bookings.setStatus(bookingId, 'FAILED', { failure: { code: 'PROVIDER_REJECTED', message: 'late' } });
    expect(late).toBe(false);
    expect(await rowOf(bookingId)).toMatchObject({ status: 'CONFIRMED', failureCode: null });
    expect(await trailOf(bookingId)).toEqual(['system:booking-saga:STARTED', 'system:booking-saga:HELD', 'system:booking-saga:CONFIRMED']);
  });

  it("a late run of the saga's CONFIRMED does not undo the flag a stuck cancellation set, nor audit a move", async () => {
    const bookingId = await bookingRow();
    const bookings = repository();
    for (const status of ['STARTED', 'HELD', 'CONFIRMED']) await bookings.setStatus(bookingId, status);
    // The cancellation (it starts from CONFIRMED) cannot cancel at the supplier.
    const stuck = { code: 'CANCELLATION_STUCK', message: 'stuck' };
    expect(await bookings.setStatus(bookingId, 'NEEDS_ATTENTION', { failure: stuck })).toBe(true);
    // The saga's local CONFIRMED runs again after a lost workflow task: NEEDS_ATTENTION -> CONFIRMED is
    // a move the table allows (a capture retried past the point of no return), but not this saga's.
    expect(await bookings.setStatus(bookingId, 'CONFIRMED', { from: ['HELD', 'AWAITING_PAYMENT'] })).toBe(false);
    expect(await rowOf(bookingId)).toMatchObject({ status: 'NEEDS_ATTENTION', failureCode: 'CANCELLATION_STUCK' });
    // Without the narrowing (the saga's regular CONFIRMED after its own CAPTURE_STUCK) the table allows it.
    expect(await bookings.setStatus(bookingId, 'CONFIRMED')).toBe(true);
    expect(await trailOf(bookingId)).toEqual([
      'system:booking-saga:STARTED',
      'system:booking-saga:HELD',
      'system:booking-saga:CONFIRMED',
      'system:booking-saga:NEEDS_ATTENTION',
      'system:booking-saga:CONFIRMED',
    ]);
  });

  it('a VOIDED payment is not moved back to AUTHORIZED by a late authorize attempt', async () => {
    const bookingId = await bookingRow();
    const bookings = repository();
    const payment = { paymentIntentId: `pi_${randomUUID()}`, amountMinor: 12_300, currency: 'EUR' };
    await bookings.recordPayment(bookingId, { ...payment, status: 'AUTHORIZED' });
    await bookings.recordPayment(bookingId, { ...payment, status: 'VOIDED' });
    await bookings.recordPayment(bookingId, { ...payment, status: 'AUTHORIZED' });
    expect(await stack.orm.em.fork().findOneOrFail(Payment, { paymentIntentId: payment.paymentIntentId })).toMatchObject({ status: 'VOIDED' });
  });

  it('writes, for every pair of states in each table, exactly the moves the table allows, and audits only those', async () => {
    const bookingId = await bookingRow();
    const bookings = repository();
    const conn = stack.orm.em.getConnection();
    const audited = async () => (await stack.orm.em.fork().count(AuditEntry, { resource: `booking:${bookingId}` }));
    const auditedBefore = await audited();
    const paymentIntentId = `pi_${randomUUID()}`;
    await bookings.recordPayment(bookingId, { paymentIntentId, status: 'CREATED', amountMinor: 12_300, currency: 'EUR' });
    let moves = 1;
    const outcomes: string[] = [];
    const expected: string[] = [];
    const walk = async <S extends string>(
      machine: { states: readonly S[]; allows(from: string, to: string): boolean },
      put: (state: S) => Promise<unknown>,
      write: (state: S) => Promise<unknown>,
      read: () => Promise<string>,
      auditedMoves: boolean,
    ) => {
      for (const from of machine.states) {
        for (const to of machine.states) {
          await put(from);
          await write(to);
          const moved = machine.allows(from, to);
          if (moved && auditedMoves) moves += 1;
          outcomes.push(`${from} → ${to}: ${await read()}`);
          expected.push(`${from} → ${to}: ${moved ? to : from}`);
        }
      }
    };
    await walk(
      BOOKING_TRANSITIONS,
      (state) => conn.execute('update bookings set status = ? where id = ?', [state, bookingId]),
      (state) => bookings.setStatus(bookingId, state),
      async () => (await rowOf(bookingId)).status,
      true,
    );
    await walk(
      BOOKING_ITEM_TRANSITIONS,
      (state) => conn.execute('update booking_items set state = ? where booking_id = ?', [state, bookingId]),
      (state) => bookings.updateItem(bookingId, 'sandbox:SBX-1', { state }),
      async () => (await itemOf(bookingId)).state,
      false,
    );
    await walk(
      PAYMENT_TRANSITIONS,
      (state) => conn.execute('update payments set status = ? where payment_intent_id = ?', [state, paymentIntentId]),
      (state) => bookings.recordPayment(bookingId, { paymentIntentId, status: state, amountMinor: 12_300, currency: 'EUR' }),
      async () => (await stack.orm.em.fork().findOneOrFail(Payment, { paymentIntentId })).status,
      true,
    );
    expect(outcomes).toEqual(expected);
    expect((await audited()) - auditedBefore).toBe(moves);
  });
});

describe("the API's booking insert", () => {
  it('answers with the record as it is stored (PENDING, items by offer id at their default rule, no payments), and a second insert under the key is a duplicate', async () => {
    const traveller = await travellerOf(stack);
    const store = createBookingRecordsStore(stack.orm, { audit: auditAppender(stack.config.audit.hmacKey) });
    const id = randomUUID();
    const idempotencyKey = randomUUID();
    const booking = {
      id,
      userId: traveller.userId,
      workflowId: bookingWorkflowId(traveller.userId, idempotencyKey),
      idempotencyKey,
      requestHash: 'f'.repeat(64),
      totalMinor: 30_000,
      currency: 'EUR',
      passengers: [{ givenName: 'Ada', familyName: 'Lovelace', dateOfBirth: 'v1:dob', passportNumber: 'v1:passport', passportHint: '******567', passportCountry: 'GB', nationality: 'GB' }],
      contactEmail: 'ada@example.test',
      contactPhone: 'v1:phone',
      notes: 'window seat',
      items: [
        { offerId: 'sandbox:SBX-2', provider: 'sandbox', kind: 'hotel', priceMinor: 20_000, currency: 'EUR' },
        { offerId: 'sandbox:SBX-1', provider: 'sandbox', kind: 'flight', priceMinor: 10_000, currency: 'EUR' },
      ],
    };
    const created = await store.create(booking);
    expect(created).not.toBe('duplicate');
    expect(created).toEqual(await store.findOwn(traveller.userId, id));
    expect(created).toMatchObject({ status: 'PENDING', payments: [], items: [{ offerId: 'sandbox:SBX-1', fareRule: 'SAVER' }, { offerId: 'sandbox:SBX-2', fareRule: 'SAVER' }] });
    expect(await store.create({ ...booking, id: randomUUID() })).toBe('duplicate');
  });
});
