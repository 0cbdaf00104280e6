import { execFileSync } from 'node:child_process';
import { inject } from 'vitest';
import { appendAudit } from '../../infra/audit/audit-log.js';
import { loadConfig } from '../../infra/config.js';
import { createOrm, type Orm } from '../../infra/db/orm.js';
import { createMigratedDatabase } from './migrated-database.js';

/**
 * A migrated database of its own, for tests that cut, trim and rewrite the whole audit log:
 * `orm` is the application role (travelconnect_app), as the API and worker connect; `owner` the
 * role that migrated it; psql as the cluster superuser (peer authentication) plays the tamperer
 * the chain must catch.
 */
export async function createAuditDatabase() {
  const config = loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    DATABASE_URL: inject('databaseUrl'),
    MIGRATION_DATABASE_URL: inject('migrationDatabaseUrl'),
  });
  const database = await createMigratedDatabase(config, 'tc_audit');
  const name = database.name;
  const url = new URL(database.database.url);
  const orm = await createOrm(database.database);
  const owner = await createOrm(database.migrationDatabase);
  const key = config.audit.hmacKey;

  const superuser = (sql: string): string =>
    execFileSync('runuser', ['-u', 'postgres', '--', 'psql', '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-p', url.port || '5432', '-d', name, '-c', sql], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  /** The error psql reports for `sql`, run as the superuser; fails the test if it succeeds. */
  const superuserError = (sql: string): string => {
    try {
      superuser(sql);
    } catch (error) {
      return String((error as { stderr?: string }).stderr);
    }
    throw new Error(`expected the superuser's ${sql} to fail`);
  };
  /** SQL as the superuser with the append-only triggers off, as a tamperer would run it. */
  const tamper = (sql: string) =>
    superuser(
      `begin; alter table audit_log disable trigger user; alter table audit_checkpoints disable trigger user; ${sql};
       alter table audit_log enable trigger user; alter table audit_checkpoints enable trigger user; commit;`,
    );

  return {
    /** The application role's URL of this database. */
    url,
    orm,
    owner,
    key,
    superuser,
    superuserError,
    tamper,
    reset: () => tamper('truncate audit_log, audit_checkpoints restart identity'),
    /** Replaces the 18 months a trim must wait, as the owner may (the interval is a trusted literal). */
    setMinTrimAge: (interval: string) =>
      owner.em.getConnection().execute(`create or replace function audit_min_trim_age() returns interval language sql stable as $$ select interval '${interval}' $$`),
    /** Appends n events through the application path; returns their seqs. */
    async append(n: number, on: Orm = orm): Promise<string[]> {
      for (let i = 0; i < n; i += 1) {
        await on.em.fork().transactional((tx) => appendAudit(tx, key, { actor: 'user:test', action: 'test.event', resource: `thing:${i}`, result: 'ok', details: { i } }));
      }
      return superuser('select seq from audit_log order by seq desc').trim().split('\n').slice(0, n).reverse();
    },
    async drop() {
      await orm.close();
      await owner.close();
      await database.drop();
    },
  };
}

export type AuditDatabase = Awaited<ReturnType<typeof createAuditDatabase>>;
