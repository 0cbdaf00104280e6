import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditCheckpoint, trimAudit } from '../../infra/audit/audit-checkpoints.js';
import { verifyAudit } from '../../infra/audit/audit-log.js';
import { createOrm, type Orm } from '../../infra/db/orm.js';
import { createAuditDatabase, type AuditDatabase } from '../support/audit-database.js';

const APP_ROLE = 'travelconnect_app';
let db: AuditDatabase;
let app: Orm;

/**
 * Logs in as travelconnect_app. The role belongs to the whole cluster, so a test run elsewhere
 * may set another password in between: set ours and connect until one sticks.
 */
async function connectAsApp(): Promise<Orm> {
  for (let attempt = 1; ; attempt += 1) {
    const password = randomBytes(18).toString('base64url');
    db.superuser(`alter role ${APP_ROLE} password '${password}'`);
    const url = new URL(db.url);
    url.username = APP_ROLE;
    url.password = password;
    const orm = await createOrm({ url: url.toString(), poolMax: 1 });
    try {
      await orm.em.getConnection().execute('select 1');
      return orm;
    } catch (error) {
      await orm.close();
      if (attempt === 3) throw error;
    }
  }
}

beforeAll(async () => {
  db = await createAuditDatabase();
  // Migration 0006 creates the role when the migrating role may (CREATEROLE, see infra/dev/services.ts).
  expect(db.superuser(`select count(*) from pg_roles where rolname = '${APP_ROLE}'`).trim(), `${APP_ROLE} exists`).toBe('1');
  await db.setMinTrimAge('0');
  app = await connectAsApp();
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('the application role', () => {
  const sql = (statement: string) => app.em.getConnection().execute(statement);

  it('appends, checkpoints and trims audit rows through the application path', async () => {
    await db.append(4, app);
    expect(await createAuditCheckpoint(app.em.fork(), db.key)).toMatchObject({ seq: '4', rowCount: '4' });
    expect(await trimAudit(app.em.fork(), db.key, new Date(), 2)).toEqual({ trimmed: 2, throughSeq: '2' });
    expect(await verifyAudit(app.em.fork(), db.key)).toEqual({ ok: true, checked: 2, checkpoints: 2 });
  });

  it('may not UPDATE, DELETE or TRUNCATE audit rows or checkpoints: its grants refuse before any trigger runs', async () => {
    for (const table of ['audit_log', 'audit_checkpoints']) {
      await expect(sql(`update ${table} set seq = seq`)).rejects.toThrow(`permission denied for table ${table}`);
      await expect(sql(`delete from ${table}`)).rejects.toThrow(`permission denied for table ${table}`);
      await expect(sql(`truncate ${table}`)).rejects.toThrow(`permission denied for table ${table}`);
      await expect(sql(`alter table ${table} disable trigger user`)).rejects.toThrow(`must be owner of table ${table}`);
    }
    // The trim switch the trigger honours opens nothing for it either.
    await expect(
      app.em.fork().transactional(async (tx) => {
        await tx.execute("set local audit.trim = 'on'");
        await tx.execute('delete from audit_log');
      }),
    ).rejects.toThrow('permission denied for table audit_log');
    // Nor do the grants lean on the trigger: with it disabled, the role is still refused.
    expect(
      db.superuserError(`begin; alter table audit_log disable trigger user; set local role ${APP_ROLE}; update audit_log set result = 'forged'; rollback`),
    ).toMatch('permission denied for table audit_log');
    expect(await verifyAudit(app.em.fork(), db.key)).toMatchObject({ ok: true, checked: 2 });
  });

  it('does its ordinary work on the other tables', async () => {
    await sql(`insert into webhook_events (id, source, type, received_at) values ('evt_app_role', 'stripe', 't', now())`);
    await sql(`delete from webhook_events where id = 'evt_app_role'`);
  });
});
