import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAuditCheckpoint, trimAudit } from '../../infra/audit/audit-checkpoints.js';
import { verifyAudit } from '../../infra/audit/audit-log.js';
import type { Orm } from '../../infra/db/orm.js';
import { APP_ROLE, applicationRoleProblems } from '../../infra/db/roles.js';
import { createAuditDatabase, type AuditDatabase } from '../support/audit-database.js';
import { startStack, type Stack } from '../support/stack.js';

// SECURITY.md §28: the application runs as travelconnect_app, which may read and append audit
// rows but never change or remove them, and may not change the schema. Its password is the one
// in the configured DATABASE_URL, set by the migration step (infra/db/roles.ts) outside production.
let db: AuditDatabase;

beforeAll(async () => {
  db = await createAuditDatabase();
  // Migration 0006 creates the role when the migrating role may (CREATEROLE, see dev/services.ts).
  expect(db.superuser(`select count(*) from pg_roles where rolname = '${APP_ROLE}'`).trim(), `${APP_ROLE} exists`).toBe('1');
  await db.setMinTrimAge('0');
});
afterAll(async () => {
  await db?.drop();
});

/** What the role behind `orm` must be refused: changing audit history, and any DDL. */
async function expectNoHistoryOrSchemaChanges(orm: Orm) {
  const sql = (statement: string) => orm.em.getConnection().execute(statement);
  for (const table of ['audit_log', 'audit_checkpoints']) {
    await expect(sql(`update ${table} set seq = seq`)).rejects.toThrow(`permission denied for table ${table}`);
    await expect(sql(`delete from ${table}`)).rejects.toThrow(`permission denied for table ${table}`);
    await expect(sql(`truncate ${table}`)).rejects.toThrow(`permission denied for table ${table}`);
    await expect(sql(`alter table ${table} disable trigger user`)).rejects.toThrow(`must be owner of table ${table}`);
  }
  // PostgreSQL 15 gives PUBLIC no CREATE on schema public, and migration 0008 makes sure of it.
  await expect(sql('create table app_role_probe (id int)')).rejects.toThrow(/permission denied for schema/);
  await expect(sql('create function app_role_probe() returns int language sql as $$ select 1 $$')).rejects.toThrow(/permission denied for schema/);
  await expect(sql('create schema app_role_probe')).rejects.toThrow(/permission denied for database/);
  await expect(sql('drop table bookings')).rejects.toThrow('must be owner of table bookings');
  await expect(sql('alter table bookings add column probe int')).rejects.toThrow('must be owner of table bookings');
  await expect(sql('create index app_role_probe on bookings (id)')).rejects.toThrow('must be owner of table bookings');
  await expect(sql('drop function audit_log_trim(timestamptz, integer)')).rejects.toThrow('must be owner of function audit_log_trim');
}

describe('the application role', () => {
  const sql = (statement: string) => db.orm.em.getConnection().execute(statement);

  it('is what the configured DATABASE_URL logs in as; nothing resets its password', async () => {
    expect(decodeURIComponent(new URL(inject('databaseUrl')).username)).toBe(APP_ROLE);
    expect(await sql('select current_user as role, session_user as login')).toEqual([{ role: APP_ROLE, login: APP_ROLE }]);
    expect(await applicationRoleProblems(db.orm)).toEqual([]);
    // The check the API and worker run at start-up (production refuses to start on any finding).
    expect(await applicationRoleProblems(db.owner)).toContainEqual(expect.stringMatching(/owns tables of schema public/));
  });

  it('appends, checkpoints and trims audit rows through the application path', async () => {
    await db.append(4, db.orm);
    expect(await createAuditCheckpoint(db.orm.em.fork(), db.key)).toMatchObject({ seq: '4', rowCount: '4' });
    expect(await trimAudit(db.orm.em.fork(), db.key, new Date(), 2)).toEqual({ trimmed: 2, throughSeq: '2' });
    expect(await verifyAudit(db.orm.em.fork(), db.key)).toEqual({ ok: true, checked: 2, checkpoints: 2 });
  });

  it('may not UPDATE, DELETE or TRUNCATE audit rows or checkpoints, nor change the schema: its grants refuse before any trigger runs', async () => {
    await expectNoHistoryOrSchemaChanges(db.orm);
    // The trim switch the trigger honours opens nothing for it either.
    await expect(
      db.orm.em.fork().transactional(async (tx) => {
        await tx.execute("set local audit.trim = 'on'");
        await tx.execute('delete from audit_log');
      }),
    ).rejects.toThrow('permission denied for table audit_log');
    // Nor do the grants lean on the trigger: with it disabled, the role is still refused.
    expect(
      db.superuserError(`begin; alter table audit_log disable trigger user; set local role ${APP_ROLE}; update audit_log set result = 'forged'; rollback`),
    ).toMatch('permission denied for table audit_log');
    expect(await verifyAudit(db.orm.em.fork(), db.key)).toMatchObject({ ok: true, checked: 2 });
  });

  it('does its ordinary work on the other tables', async () => {
    await sql(`insert into webhook_events (id, source, type, received_at) values ('evt_app_role', 'stripe', 't', now())`);
    await sql(`delete from webhook_events where id = 'evt_app_role'`);
  });
});

describe('the running application', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ inProcessWorker: false });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("connects as travelconnect_app, the API's pool and the worker processes alike", async () => {
    expect(await stack.orm.em.getConnection().execute('select current_user as role')).toEqual([{ role: APP_ROLE }]);
    expect(await applicationRoleProblems(stack.orm)).toEqual([]);
    expect(decodeURIComponent(new URL(String(stack.workerEnv.DATABASE_URL)).username)).toBe(APP_ROLE);
  });

  it('cannot change the audit log or the schema through its own connection', async () => {
    await expectNoHistoryOrSchemaChanges(stack.orm);
  });

  it('in production, the start-up check stops the process connected as the owner, naming DATABASE_URL', () => {
    // The check the API and worker run once connected, in a process of its own. Production reaches
    // Postgres over verified TLS only, and this one speaks plaintext, so here the check runs alone.
    const ownerUrl = inject('migrationDatabaseUrl');
    const script = [
      "const { createOrm } = await import('./infra/db/orm.ts');",
      "const { checkApplicationRole } = await import('./infra/db/roles.ts');",
      'const orm = await createOrm({ url: process.env.TC_OWNER_URL, poolMax: 1 });',
      'await checkApplicationRole(orm, { isProduction: true }, { warn() {} });',
      'await orm.close();',
    ].join('\n');
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { ...process.env, TC_OWNER_URL: ownerUrl },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status, result.stderr).toBe(78);
    const owner = decodeURIComponent(new URL(ownerUrl).username);
    const lines = result.stderr.split('\n').filter((line) => line.startsWith('Invalid configuration'));
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toContain(`Invalid configuration: DATABASE_URL: ${owner} owns tables of schema public`);
    expect(lines[0]).toContain(`connect as ${APP_ROLE}`);
    expect(result.stderr).not.toContain('postgresql://');
  });
});
