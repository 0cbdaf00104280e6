import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Booking } from '../../infra/db/entities.js';
import { ensureRetentionSchedule } from '../../infra/temporal/schedules.js';
import { startStack, type Stack } from '../support/stack.js';
import { eventually } from '../support/eventually.js';
import { json, travellerOf } from '../support/booking-client.js';

let stack: Stack;
const scheduleId = `retention-test-${randomUUID().slice(0, 8)}`;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack.temporal.schedule.getHandle(scheduleId).delete().catch(() => undefined);
  await stack?.stop();
});

const until = (condition: () => Promise<boolean>) => eventually(condition, (ok) => ok, { what: 'the condition' });

describe('retention purge', () => {
  it('runs from a Temporal Schedule and purges exactly what is past its period', async () => {
    const traveller = await travellerOf(stack);
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await json(await traveller.book(await traveller.bookingBody()))).bookingId);
    for (const id of ids) await traveller.settled(id);
    const [old, borderline, recent] = ids as [string, string, string];
    const conn = stack.orm.em.getConnection();
    // Ages: 11 days (past a 10-day period), 9 days (inside it), and new.
    await conn.execute(`update bookings set created_at = now() - interval '11 days' where id = ?`, [old]);
    await conn.execute(`update bookings set created_at = now() - interval '9 days' where id = ?`, [borderline]);
    await conn.execute(
      `insert into webhook_events (id, source, type, received_at) values (?, 'stripe', 't', now() - interval '40 days'), (?, 'stripe', 't', now())`,
      [`evt_old_${scheduleId}`, `evt_new_${scheduleId}`],
    );

    expect(
      await ensureRetentionSchedule(stack.temporal, {
        scheduleId,
        taskQueue: stack.taskQueue,
        everyMs: 24 * 60 * 60_000,
        policy: { bookingPiiDays: 10, webhookEventDays: 30, batchSize: 1 },
      }),
    ).toBe('created');
    // Creating it again at the next start is harmless.
    expect(await ensureRetentionSchedule(stack.temporal, { scheduleId, taskQueue: stack.taskQueue, everyMs: 60_000, policy: { bookingPiiDays: 1, webhookEventDays: 1, batchSize: 1 } })).toBe('exists');
    await stack.temporal.schedule.getHandle(scheduleId).trigger();

    const row = (id: string) => stack.orm.em.fork().findOneOrFail(Booking, { id });
    await until(async () => (await row(old)).contactEmail === 'anonymized');
    await until(async () => ((await conn.execute(`select count(*)::int as n from webhook_events where id = ?`, [`evt_old_${scheduleId}`]))[0]?.n ?? 1) === 0);

    const purged = await row(old);
    expect(purged.passengers).toEqual([]);
    expect(purged.contactPhone).toBe('anonymized');
    expect(purged.totalMinor).toBeGreaterThan(0); // kept for accounting
    expect(purged.status).toBe('CONFIRMED');
    for (const kept of [borderline, recent]) {
      const booking = await row(kept);
      expect(booking.contactEmail).toBe('ada@example.com');
      expect(booking.passengers).toHaveLength(1);
    }
    const newEvent = await conn.execute(`select count(*)::int as n from webhook_events where id = ?`, [`evt_new_${scheduleId}`]);
    expect(newEvent[0]?.n).toBe(1);
  });
});
