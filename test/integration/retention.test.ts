import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Booking } from '../../infra/db/entities.js';
import { ensureRetentionSchedule } from '../../infra/temporal/schedules.js';
import { startStack, type Stack } from '../support/stack.js';
import { eventually } from '../support/eventually.js';
import { json, travellerOf } from '../support/booking-client.js';
import { signIn } from '../support/sign-in.js';

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
    // Sessions and tokens: one ended 11 days ago, one ended 9 days ago, one alive.
    const sessions = [await signIn(stack), await signIn(stack), await signIn(stack)];
    await conn.execute(`update sessions set revoked_at = now() - interval '11 days', revoked_reason = 'logout' where id = ?`, [sessions[0]!.sessionId]);
    await conn.execute(`update sessions set revoked_at = now() - interval '9 days', revoked_reason = 'logout' where id = ?`, [sessions[1]!.sessionId]);
    await conn.execute(
      `insert into one_time_tokens (token_hash, user_id, purpose, expires_at, used_at) values (?, ?, 'password-reset', now() - interval '12 days', now() - interval '11 days'), (?, ?, 'password-reset', now() + interval '1 hour', null)`,
      ['a'.repeat(56) + scheduleId.slice(-8), sessions[0]!.userId, 'b'.repeat(56) + scheduleId.slice(-8), sessions[0]!.userId],
    );
    // Mail: delivered 11 days ago, never delivered and 11 days old (its links long dead), never delivered and 9 days old.
    const mail = (what: string) => `${what}-${scheduleId}@example.test`;
    await conn.execute(
      `insert into outbox (id, recipient, template, subject, body, created_at, delivered_at) values
         (gen_random_uuid(), ?, 'verify-email', 's', null, now() - interval '12 days', now() - interval '11 days'),
         (gen_random_uuid(), ?, 'verify-email', 's', 'b', now() - interval '11 days', null),
         (gen_random_uuid(), ?, 'verify-email', 's', 'b', now() - interval '9 days', null)`,
      [mail('delivered'), mail('undelivered-old'), mail('undelivered-recent')],
    );
    await conn.execute(
      `insert into webhook_events (id, source, type, received_at) values (?, 'stripe', 't', now() - interval '40 days'), (?, 'stripe', 't', now())`,
      [`evt_old_${scheduleId}`, `evt_new_${scheduleId}`],
    );

    const schedule = {
      scheduleId,
      taskQueue: stack.taskQueue,
      everyMs: 24 * 60 * 60_000,
      policy: { bookingPiiDays: 10, webhookEventDays: 30, authRecordDays: 10, batchSize: 1 },
    };
    expect(await ensureRetentionSchedule(stack.temporal, schedule)).toBe('created');
    // Creating it again at the next start is harmless (a changed configuration updates it: test/integration/schedules.test.ts).
    expect(await ensureRetentionSchedule(stack.temporal, schedule)).toBe('exists');
    const checkpointsBefore = (await conn.execute(`select count(*)::int as n from audit_checkpoints`))[0]?.n ?? 0;
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

    const sessionExists = async (id: string) => ((await conn.execute(`select count(*)::int as n from sessions where id = ?`, [id]))[0]?.n ?? 0) === 1;
    await until(async () => !(await sessionExists(sessions[0]!.sessionId)));
    expect(await sessionExists(sessions[1]!.sessionId)).toBe(true);
    expect(await sessionExists(sessions[2]!.sessionId)).toBe(true);
    const tokens = await conn.execute<Array<{ token_hash: string }>>(`select token_hash from one_time_tokens where user_id = ?`, [sessions[0]!.userId]);
    expect(tokens.map((t) => t.token_hash[0])).toEqual(['b']);
    // One row a batch (batchSize 1): the old ones go in turn, the recent one stays.
    const outbox = async () =>
      (await conn.execute<Array<{ recipient: string }>>(`select recipient from outbox where recipient like ?`, [`%-${scheduleId}@example.test`])).map((m) => m.recipient);
    await until(async () => (await outbox()).length === 1);
    expect(await outbox()).toEqual([mail('undelivered-recent')]);
    // The audit log is checkpointed by the purge (nothing here is 18 months old, so nothing is trimmed).
    await until(async () => ((await conn.execute(`select count(*)::int as n from audit_checkpoints`))[0]?.n ?? 0) > checkpointsBefore);
    const [run] = (await stack.temporal.schedule.getHandle(scheduleId).describe()).info.recentActions;
    const outcome = (await stack.temporal.workflow.getHandle(run!.action.workflow.workflowId).result()) as { auditRowsTrimmed?: number };
    expect(outcome.auditRowsTrimmed).toBe(0);
  });
});
