import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Booking, OutboxMessage } from '../../infra/db/entities.js';
import { enqueueMail } from '../../infra/mail/outbox.js';
import { ensureStalledWorkSchedule } from '../../infra/temporal/schedules.js';
import { stalledWorkSweepWorkflow, type StalledWorkPolicy } from '../../workflows/stalled-work.workflow.js';
import { pendingBookingRow } from '../support/booking-rows.js';
import { startStack, type Stack } from '../support/stack.js';
import { eventually } from '../support/eventually.js';
import { signIn } from '../support/sign-in.js';
import { json } from '../support/booking-client.js';
import { bookingWorkflowId } from '../../domain/booking-ids.js';

let stack: Stack;
const run = randomUUID().slice(0, 8);
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack.temporal.schedule.getHandle(`stalled-work-test-${run}`).delete().catch(() => undefined);
  await stack?.stop();
});

const MINUTE = 60_000;
const policy: StalledWorkPolicy = { mailAfterMs: 5 * MINUTE, mailGiveUpMs: 2 * 24 * 60 * MINUTE, bookingAfterMs: 15 * MINUTE, batchSize: 500 };
const sweep = () =>
  stack.temporal.workflow.execute(stalledWorkSweepWorkflow, { taskQueue: stack.taskQueue, workflowId: `sweep-${randomUUID()}`, args: [policy] });
const age = (table: 'outbox' | 'bookings', id: string, interval: string) =>
  stack.orm.em.getConnection().execute(`update ${table} set created_at = now() - ?::interval where id = ?`, [interval, id]);

/** A booking row as the API commits it, whose saga was (or was not) started afterwards. */
async function pendingBooking(userId: string, workflowId = bookingWorkflowId(userId, randomUUID())) {
  const em = stack.orm.em.fork();
  const row = pendingBookingRow(em, userId, workflowId);
  await em.flush();
  return row;
}

describe('the stalled-work sweep', () => {
  it('starts delivery of mail whose workflow start was lost, once; fresh mail and mail past its links are left alone', async () => {
    const [stalled, fresh, expired] = await stack.orm.em.fork().transactional(async (tx) =>
      ['stalled', 'fresh', 'expired'].map((what) =>
        enqueueMail(tx, { recipient: `${what}-${run}@example.test`, template: 'verify-email', subject: 'Verify your address', body: 'hello' }),
      ),
    );
    await age('outbox', stalled!, '10 minutes');
    await age('outbox', expired!, '3 days');

    const first = await sweep();
    expect(first.mailStarted).toBeGreaterThanOrEqual(1);
    const message = (id: string) => stack.orm.em.fork().findOneOrFail(OutboxMessage, { id });
    await eventually(() => message(stalled!), (m) => m.deliveredAt !== null, { what: 'the stalled message delivered' });
    expect((await message(fresh!)).deliveredAt).toBeNull();
    expect((await message(expired!)).deliveredAt).toBeNull();

    // A second sweep finds it delivered and starts nothing for it: one delivery run in all.
    await sweep();
    let runs = 0;
    for await (const _ of stack.temporal.workflow.list({ query: `WorkflowId = 'notify-${stalled}'` })) runs += 1;
    expect(runs).toBe(1);
    expect((await message(stalled!)).attempts).toBe(1);
  });

  it('fails a booking left PENDING without a saga, visibly to its owner; a booking whose saga exists, or a young one, is not touched', async () => {
    const traveller = await signIn(stack);
    const orphan = await pendingBooking(traveller.userId);
    const young = await pendingBooking(traveller.userId);
    const owned = await pendingBooking(traveller.userId);
    // Its saga exists (any run of that id): the saga writes its status, the sweep does not.
    await stack.temporal.workflow.execute('notificationWorkflow', { taskQueue: stack.taskQueue, workflowId: owned.workflowId, args: [randomUUID()] });
    await age('bookings', orphan.id, '20 minutes');
    await age('bookings', owned.id, '20 minutes');

    expect((await sweep()).bookingsFailed).toBeGreaterThanOrEqual(1);
    const status = async (id: string) => (await stack.orm.em.fork().findOneOrFail(Booking, { id })).status;
    expect(await status(orphan.id)).toBe('FAILED');
    expect(await status(young.id)).toBe('PENDING');
    expect(await status(owned.id)).toBe('PENDING');

    const seen = await json(await stack.app.request(`/api/v1/bookings/${orphan.id}`, { headers: traveller.auth }));
    expect(seen).toMatchObject({ status: 'FAILED', failure: { code: 'NOT_STARTED' } });
    const audit = await stack.orm.em
      .getConnection()
      .execute(`select actor, result from audit_log where resource = ? and action = 'booking.status_changed'`, [`booking:${orphan.id}`]);
    expect(audit).toEqual([{ actor: 'system:stalled-work-sweep', result: 'FAILED' }]);

    // Failed once: the next sweep does not write it again.
    await sweep();
    const again = await stack.orm.em.getConnection().execute(`select count(*)::int as n from audit_log where resource = ?`, [`booking:${orphan.id}`]);
    expect(again[0]?.n).toBe(1);
  });

  it('pages past rows whose saga exists: a booking behind more than a page of them is failed in one run', async () => {
    const traveller = await signIn(stack);
    // The oldest PENDING rows all have a saga (say, terminated before its first step): the sweep skips them.
    const owned = await Promise.all([1, 2, 3].map(() => pendingBooking(traveller.userId)));
    await Promise.all(
      owned.map(async (row) => {
        await stack.temporal.workflow.execute('notificationWorkflow', { taskQueue: stack.taskQueue, workflowId: row.workflowId, args: [randomUUID()] });
        await age('bookings', row.id, '3 days');
      }),
    );
    const orphan = await pendingBooking(traveller.userId);
    await age('bookings', orphan.id, '16 minutes');

    const pageOfTwo = { ...policy, batchSize: 2 };
    await stack.temporal.workflow.execute(stalledWorkSweepWorkflow, { taskQueue: stack.taskQueue, workflowId: `sweep-${randomUUID()}`, args: [pageOfTwo] });
    const status = async (id: string) => (await stack.orm.em.fork().findOneOrFail(Booking, { id })).status;
    expect(await status(orphan.id)).toBe('FAILED');
    for (const row of owned) expect(await status(row.id)).toBe('PENDING');
  });

  it('is created as a Schedule idempotently at worker start', async () => {
    const options = { scheduleId: `stalled-work-test-${run}`, taskQueue: stack.taskQueue, everyMs: 5 * MINUTE, policy };
    expect(await ensureStalledWorkSchedule(stack.temporal, options)).toBe('created');
    expect(await ensureStalledWorkSchedule(stack.temporal, options)).toBe('exists');
    const described = await stack.temporal.schedule.getHandle(options.scheduleId).describe();
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'stalledWorkSweepWorkflow' });
  });
});
