import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuditCheckpoint, trimAudit } from '../../infra/audit/audit-checkpoints.js';
import { verifyAudit } from '../../infra/audit/audit-log.js';
import { createAuditDatabase, type AuditDatabase } from '../support/audit-database.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let db: AuditDatabase;
beforeAll(async () => {
  db = await createAuditDatabase();
  // Trimming waits out 18 months in production; these rows are seconds old.
  await db.setMinTrimAge('0');
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(() => {
  db.reset();
});

const verify = () => verifyAudit(db.orm.em.fork(), db.key);
const checkpoint = () => createAuditCheckpoint(db.orm.em.fork(), db.key);
const trim = (before: Date, maxRows: number) => trimAudit(db.orm.em.fork(), db.key, before, maxRows);
const count = (table: string) => Number(db.superuser(`select count(*) from ${table}`).trim());

describe('audit chain and checkpoints under a superuser tamperer', () => {
  it('verifies a clean log with its checkpoints', async () => {
    await db.append(3);
    expect(await checkpoint()).toMatchObject({ id: '1', seq: '3', rowCount: '3' });
    await db.append(2);
    expect(await checkpoint()).toMatchObject({ id: '2', seq: '5', rowCount: '5' });
    await db.append(1);
    expect(await verify()).toEqual({ ok: true, checked: 6, checkpoints: 2 });
  });

  it("names an edited row, a removed row's successor, and the first of two swapped rows", async () => {
    await db.append(5);
    await checkpoint();

    db.tamper(`update audit_log set details = '{"i": 99}' where seq = 3`);
    expect(await verify()).toMatchObject({ ok: false, seq: '3', reason: expect.stringContaining('edited') });
    db.tamper(`update audit_log set details = '{"i": 2}' where seq = 3`);
    expect(await verify()).toMatchObject({ ok: true });

    db.tamper('create table saved as select * from audit_log where seq = 3; delete from audit_log where seq = 3');
    expect(await verify()).toMatchObject({ ok: false, seq: '4', reason: expect.stringContaining('removed') });
    db.tamper('insert into audit_log select * from saved; drop table saved');
    expect(await verify()).toMatchObject({ ok: true });

    db.tamper('update audit_log set seq = -2 where seq = 2; update audit_log set seq = 2 where seq = 3; update audit_log set seq = 3 where seq = -2');
    expect(await verify()).toMatchObject({ ok: false, seq: '2', reason: expect.stringContaining('moved') });
  });

  it('catches a tail cut back past a checkpoint, by the checkpoint that names the lost row', async () => {
    await db.append(6);
    await checkpoint();
    await db.append(2);

    db.tamper('create table saved as select * from audit_log where seq >= 4; delete from audit_log where seq >= 4');
    expect(await verify()).toEqual({
      ok: false,
      checked: 3,
      seq: '6',
      checkpoint: '1',
      reason: 'checkpoint 1 covers the chain up to seq 6, but it ends at seq 3: 3 rows were removed from the tail',
    });
    db.tamper('insert into audit_log select * from saved; drop table saved');
    expect(await verify()).toMatchObject({ ok: true, checked: 8 });

    db.tamper('truncate audit_log');
    expect(await verify()).toMatchObject({ ok: false, checked: 0, seq: '6', reason: expect.stringContaining('6 rows were removed from the tail') });
  });

  it('cannot see rows cut after the newest checkpoint, which is why checkpoints are frequent', async () => {
    await db.append(6);
    await checkpoint();
    await db.append(2);
    db.tamper('delete from audit_log where seq > 6');
    expect(await verify()).toEqual({ ok: true, checked: 6, checkpoints: 1 });
  });

  it('catches an edited, removed or reordered checkpoint', async () => {
    for (const n of [3, 2, 1]) {
      await db.append(n);
      await checkpoint();
    }
    db.tamper('update audit_checkpoints set row_count = 4 where id = 2');
    expect(await verify()).toMatchObject({ ok: false, checkpoint: '2', reason: expect.stringContaining('edited') });
    db.tamper('update audit_checkpoints set row_count = 5 where id = 2');
    expect(await verify()).toMatchObject({ ok: true, checkpoints: 3 });

    db.tamper('update audit_checkpoints set id = -1 where id = 1; update audit_checkpoints set id = 1 where id = 2; update audit_checkpoints set id = 2 where id = -1');
    expect(await verify()).toMatchObject({ ok: false, checkpoint: '1', reason: expect.stringContaining('removed or moved') });
    db.tamper('update audit_checkpoints set id = -1 where id = 1; update audit_checkpoints set id = 1 where id = 2; update audit_checkpoints set id = 2 where id = -1');

    db.tamper('delete from audit_checkpoints where id = 2');
    expect(await verify()).toMatchObject({ ok: false, checkpoint: '3', reason: expect.stringContaining('removed or moved') });
  });

  it('refuses a checkpoint over a broken chain', async () => {
    await db.append(3);
    await checkpoint();
    await db.append(2);
    db.tamper(`update audit_log set result = 'forged' where seq = 5`);
    await expect(checkpoint()).rejects.toMatchObject({ code: 'AUDIT_CHAIN_BROKEN', seq: '5' });
    db.tamper('delete from audit_log where seq >= 3');
    await expect(checkpoint()).rejects.toMatchObject({ code: 'AUDIT_CHAIN_BROKEN', seq: '3' });
    expect(count('audit_checkpoints')).toBe(1);
  });
});

describe('trimming past retention', () => {
  it('trims old rows up to the newest checkpoint, and the rest still verifies', async () => {
    await db.append(6);
    await checkpoint();
    await db.append(3);
    const before = new Date();

    expect(await trim(before, 4)).toEqual({ trimmed: 4, throughSeq: '4' });
    expect(await verify()).toEqual({ ok: true, checked: 5, checkpoints: 2 });
    // Rows 7-9 are old enough but no checkpoint covers them yet.
    expect(await trim(before, 100)).toEqual({ trimmed: 2, throughSeq: '6' });
    expect(await trim(before, 100)).toEqual({ trimmed: 0, throughSeq: null });
    expect(await verify()).toEqual({ ok: true, checked: 3, checkpoints: 3 });
    expect(await checkpoint()).toMatchObject({ seq: '9', rowCount: '9' });
    expect(await verify()).toEqual({ ok: true, checked: 3, checkpoints: 4 });

    // A trimmed head is no gap; a row removed after it still is.
    db.tamper('delete from audit_log where seq = 8');
    expect(await verify()).toMatchObject({ ok: false, seq: '9', reason: expect.stringContaining('removed') });
  });

  it('stops at the first row not older than `before`', async () => {
    await db.append(3);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const before = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await db.append(3);
    await checkpoint();
    expect(await trim(before, 100)).toEqual({ trimmed: 3, throughSeq: '3' });
    expect(await verify()).toEqual({ ok: true, checked: 3, checkpoints: 2 });
  });

  it('lets new rows chain to the trim marker once the whole log was trimmed', async () => {
    await db.append(3);
    await checkpoint();
    expect(await trim(new Date(), 100)).toEqual({ trimmed: 3, throughSeq: '3' });
    expect(count('audit_log')).toBe(0);
    expect(await verify()).toEqual({ ok: true, checked: 0, checkpoints: 2 });
    await db.append(2);
    expect(await verify()).toEqual({ ok: true, checked: 2, checkpoints: 2 });
    expect(await checkpoint()).toMatchObject({ seq: '5', rowCount: '5' });
  });

  it('refuses without a checkpoint, within retention, over a broken chain, and outside trimAudit', async () => {
    await db.append(3);
    await expect(trim(new Date(), 100)).rejects.toMatchObject({ code: 'AUDIT_NOT_CHECKPOINTED' });

    const sql = (statement: string) => db.orm.em.getConnection().execute(statement);
    await expect(sql('select audit_log_trim(now(), 100)')).rejects.toThrow(/no trim marker recorded/);
    // A marker no checkpoint covers, written straight into the table (its signature is not even checked here).
    await sql(`insert into audit_checkpoints (kind, seq, mac, row_count, created_at, prev_signature, signature)
               select 'trim', seq, mac, 2, now(), repeat('0', 64), repeat('0', 64) from audit_log where seq = 2`);
    await expect(sql('select audit_log_trim(now(), 100)')).rejects.toThrow(/no checkpoint covers seq 2/);
    db.reset();

    await db.append(3);
    await checkpoint();
    await db.setMinTrimAge('18 months');
    try {
      await expect(trim(new Date(), 100)).rejects.toThrow(/within the audit retention period/);
    } finally {
      await db.setMinTrimAge('0');
    }

    db.tamper(`update audit_log set result = 'forged' where seq = 2`);
    await expect(trim(new Date(), 100)).rejects.toMatchObject({ code: 'AUDIT_CHAIN_BROKEN', seq: '2' });
    expect(count('audit_log')).toBe(3);
    expect(count('audit_checkpoints')).toBe(1);
  });

  it('keeps the trigger shut for a superuser who sets audit.trim, and for checkpoints', async () => {
    await db.append(2);
    await checkpoint();
    expect(db.superuserError(`set audit.trim = 'on'; delete from audit_log where seq = 1`)).toMatch(/audit_log is append-only \(DELETE refused\)/);
    // The owner holds every grant (the application role is refused before the trigger, see audit-app-role).
    const sql = (statement: string) => db.owner.em.getConnection().execute(statement);
    await expect(sql('update audit_checkpoints set row_count = 0')).rejects.toThrow(/audit_checkpoints is append-only/);
    await expect(sql('delete from audit_checkpoints')).rejects.toThrow(/audit_checkpoints is append-only/);
    await expect(sql('truncate audit_checkpoints')).rejects.toThrow(/audit_checkpoints is append-only/);
    expect(count('audit_log')).toBe(2);
  });
});

describe('npm run audit:verify', () => {
  const run = (...args: string[]) =>
    promisify(execFile)('npm', ['run', '--silent', 'audit:verify', '--', ...args], {
      cwd: root,
      env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: db.url.toString(), AUDIT_HMAC_KEY: db.key, SECRETS_FILE: '' },
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );

  it('writes a checkpoint for an intact log, and names the bad row of a tampered one with exit code 1', async () => {
    await db.append(3);
    expect(await run('--checkpoint')).toEqual({
      code: 0,
      stderr: '',
      stdout: expect.stringMatching(/^audit log intact: 3 rows and 0 checkpoints verified\ncheckpoint 1: seq 3, 3 rows, .*, signature [0-9a-f]{64}\n$/),
    });

    db.tamper(`update audit_log set actor = 'user:someone-else' where seq = 2`);
    expect(await run('--checkpoint')).toEqual({ code: 1, stderr: '', stdout: expect.stringContaining('audit log TAMPERED at seq 2: its content does not match its MAC') });
    expect(count('audit_checkpoints')).toBe(1);

    db.tamper(`update audit_log set actor = 'user:test' where seq = 2; delete from audit_log where seq = 3`);
    expect(await run()).toEqual({ code: 1, stderr: '', stdout: expect.stringContaining('audit log TAMPERED at seq 3: checkpoint 1 covers the chain up to seq 3') });
  }, 60_000);
});
