import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../infra/audit/audit-log.js';
import { AuditEntry } from '../../infra/db/entities.js';
import { startStack, type Stack } from '../support/stack.js';
import { json, travellerOf } from '../support/booking-client.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** SQL as the database superuser: the tamperer the chain must catch. */
function asSuperuser(sql: string): string {
  const database = new URL(stack.config.database.url).pathname.slice(1);
  return execFileSync('runuser', ['-u', 'postgres', '--', 'psql', '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-d', database, '-c', sql], {
    encoding: 'utf8',
  });
}
const tamper = (sql: string) =>
  asSuperuser(`begin; alter table audit_log disable trigger user; ${sql}; alter table audit_log enable trigger user; commit;`);
const verify = () => verifyAudit(stack.orm.em.fork(), stack.config.audit.hmacKey);

describe('audit log', () => {
  let bookingId: string;

  it("records the booking's status and payment changes with who, what, when and result", async () => {
    const traveller = await travellerOf(stack);
    bookingId = (await json(await traveller.book(await traveller.bookingBody()))).bookingId;
    expect((await traveller.settled(bookingId)).status).toBe('CONFIRMED');
    const rows = await stack.orm.em.fork().find(AuditEntry, { resource: `booking:${bookingId}` }, { orderBy: { seq: 'asc' } });
    expect(rows.map((r) => `${r.action}:${r.result}`)).toEqual([
      'booking.status_changed:STARTED',
      'booking.status_changed:HELD',
      'payment.status_changed:CREATED',
      'payment.status_changed:AUTHORIZED',
      'payment.status_changed:CAPTURED',
      'booking.status_changed:CONFIRMED',
    ]);
    expect(rows[0]).toMatchObject({ actor: 'system:booking-saga', details: { from: 'PENDING', to: 'STARTED' } });
    expect(rows.every((r) => r.occurredAt instanceof Date)).toBe(true);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('refuses UPDATE, DELETE and TRUNCATE from the application', async () => {
    // The application's role holds no such grant; the append-only trigger stops the owner too (audit-tamper).
    const em = stack.orm.em.fork();
    await expect(em.execute('update audit_log set result = ? where resource = ?', ['FORGED', `booking:${bookingId}`])).rejects.toThrow(/permission denied for table audit_log/);
    await expect(em.execute('delete from audit_log where resource = ?', [`booking:${bookingId}`])).rejects.toThrow(/permission denied for table audit_log/);
    await expect(em.execute('truncate audit_log')).rejects.toThrow(/permission denied for table audit_log/);
  });

  it('detects a row edited, removed or moved by a superuser, and names it', async () => {
    const [first, second] = asSuperuser(`select seq from audit_log where resource = 'booking:${bookingId}' order by seq limit 2`)
      .trim()
      .split('\n');

    tamper(`update audit_log set result = 'CANCELLED' where seq = ${first}`);
    expect(await verify()).toMatchObject({ ok: false, seq: first, reason: expect.stringContaining('edited') });
    tamper(`update audit_log set result = 'STARTED' where seq = ${first}`);
    expect(await verify()).toMatchObject({ ok: true });

    tamper(`create table audit_saved as select * from audit_log where seq = ${first}; delete from audit_log where seq = ${first}`);
    expect(await verify()).toMatchObject({ ok: false, seq: second, reason: expect.stringContaining('removed') });
    tamper(`insert into audit_log select * from audit_saved; drop table audit_saved`);
    expect(await verify()).toMatchObject({ ok: true });

    // Swap two rows' contents while keeping their sequence numbers.
    const swap = (a: string, b: string) =>
      tamper(
        `create temp table pair as select * from audit_log where seq in (${a}, ${b});
         update audit_log t set occurred_at = p.occurred_at, action = p.action, result = p.result, details = p.details,
           prev_mac = p.prev_mac, mac = p.mac
         from pair p where t.seq = ${a} and p.seq = ${b} or t.seq = ${b} and p.seq = ${a}`,
      );
    swap(first!, second!);
    expect(await verify()).toMatchObject({ ok: false, seq: first });
    swap(first!, second!);
    expect(await verify()).toMatchObject({ ok: true });
  });
});
