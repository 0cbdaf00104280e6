import { requireMigrationDatabase, type Config } from '../config.js';
import { createOrm, migrate, type Orm } from './orm.js';

/** The role migration 0006 creates and grants: what the API, the worker and the admin tools run as. */
export const APP_ROLE = 'travelconnect_app';

/**
 * Applies pending migrations as the owner (MIGRATION_DATABASE_URL). Outside production it then
 * gives DATABASE_URL's role the password that URL carries, so `npm run up` and the tests connect
 * as the application role with nothing set by hand; in production the operator owns that password.
 */
export async function migrateDatabase(config: Pick<Config, 'isProduction' | 'database' | 'migrationDatabase'>): Promise<void> {
  const ownerDatabase = requireMigrationDatabase(config);
  const owner = await createOrm(ownerDatabase);
  try {
    await migrate(owner);
    if (!config.isProduction) await setRolePassword(owner, config.database.url, ownerDatabase.url);
  } finally {
    await owner.close();
  }
}

async function setRolePassword(owner: Orm, appUrl: string, ownerUrl: string): Promise<void> {
  const app = new URL(appUrl);
  const role = decodeURIComponent(app.username);
  // No password in the URL (peer or trust authentication), or the owner's own: nothing to set.
  if (!app.password || role === decodeURIComponent(new URL(ownerUrl).username)) return;
  // ALTER ROLE takes no parameters: the values travel as bound, transaction-local settings and
  // are quoted by format() on the server, so no SQL is assembled here, and log_statement = 'ddl'
  // (top-level statements only) never logs an ALTER ROLE with the password in it.
  await owner.em.fork().transactional(async (tx) => {
    await tx.execute("select set_config('travelconnect.app_role', ?, true), set_config('travelconnect.app_password', ?, true)", [
      role,
      decodeURIComponent(app.password),
    ]);
    await tx.execute(`
      do $$
      declare
        app_role text := current_setting('travelconnect.app_role');
      begin
        if not exists (select from pg_roles where rolname = app_role) then
          raise exception 'role % does not exist: migration 0006 creates travelconnect_app when the migrating role has CREATEROLE', app_role;
        end if;
        execute format('alter role %I with login password %L', app_role, current_setting('travelconnect.app_password'));
      end;
      $$`);
  });
}

/**
 * What makes the connected role more than the application needs: a superuser, an owner (or a
 * member of the owner) of the schema's tables, or a role that may create objects in the schema.
 * The API and the worker refuse to start in production on any of these (see checkApplicationRole).
 */
export async function applicationRoleProblems(orm: Orm): Promise<string[]> {
  const [row] = await orm.em.getConnection().execute<Array<{ role: string; schema: string; superuser: boolean; owns: boolean; creates: boolean }>>(`
    select current_user as role, current_schema() as schema, r.rolsuper as superuser,
      exists (select from pg_catalog.pg_class c where c.relnamespace = current_schema()::regnamespace
              and pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')) as owns,
      pg_catalog.has_schema_privilege(current_schema(), 'CREATE') as creates
    from pg_catalog.pg_roles r where r.rolname = current_user`);
  if (!row) return ['the connected role is not in pg_roles'];
  const problems: string[] = [];
  if (row.superuser) problems.push(`${row.role} is a superuser`);
  if (row.owns) problems.push(`${row.role} owns tables of schema ${row.schema}`);
  if (row.creates) problems.push(`${row.role} may create objects in schema ${row.schema}`);
  return problems;
}

/**
 * For the API's and the worker's composition roots: in production, exit 78 naming DATABASE_URL when
 * it connects as more than the application role; elsewhere, warn and go on (a developer may point
 * DATABASE_URL at the owner on purpose).
 */
export async function checkApplicationRole(
  orm: Orm,
  config: Pick<Config, 'isProduction'>,
  log: { warn(details: object, message: string): void },
): Promise<void> {
  const problems = await applicationRoleProblems(orm);
  if (problems.length === 0) return;
  if (config.isProduction) {
    process.stderr.write(`Invalid configuration: DATABASE_URL: ${problems.join(', ')}; connect as ${APP_ROLE} (SECURITY.md)\n`);
    await orm.close();
    process.exit(78); // EX_CONFIG, as loadConfigOrExit
  }
  log.warn({ problems }, `DATABASE_URL connects as more than the application needs; production refuses this (connect as ${APP_ROLE})`);
}
