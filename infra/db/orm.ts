import { MikroORM } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { Config } from '../config.js';
import { entities } from './entities.js';
import { postgresSsl } from '../postgres-ssl.js';
import { Migration0001Initial } from './migrations/0001-initial.migration.js';
import { Migration0002WebhookEvents } from './migrations/0002-webhook-events.migration.js';
import { Migration0003FareRulesAndRefunds } from './migrations/0003-fare-rules-and-refunds.migration.js';
import { Migration0004AuditLog } from './migrations/0004-audit-log.migration.js';
import { Migration0005Identity } from './migrations/0005-identity.migration.js';
import { Migration0006AuditCheckpoints } from './migrations/0006-audit-checkpoints.migration.js';
import { Migration0007AdminIndexes } from './migrations/0007-admin-indexes.migration.js';
import { Migration0008AppRoleNoDdl } from './migrations/0008-app-role-no-ddl.migration.js';
import { Migration0009RefreshSuccessor } from './migrations/0009-refresh-successor.migration.js';
import { Migration0010PendingSignups } from './migrations/0010-pending-signups.migration.js';
import { Migration0011ReconciliationCases } from './migrations/0011-reconciliation-cases.migration.js';

// Listed explicitly so migrations work from a bundle, a dist build and tsx alike.
const migrationsList = [
  { name: '0001-initial', class: Migration0001Initial },
  { name: '0002-webhook-events', class: Migration0002WebhookEvents },
  { name: '0003-fare-rules-and-refunds', class: Migration0003FareRulesAndRefunds },
  { name: '0004-audit-log', class: Migration0004AuditLog },
  { name: '0005-identity', class: Migration0005Identity },
  { name: '0006-audit-checkpoints', class: Migration0006AuditCheckpoints },
  { name: '0007-admin-indexes', class: Migration0007AdminIndexes },
  { name: '0008-app-role-no-ddl', class: Migration0008AppRoleNoDdl },
  { name: '0009-refresh-successor', class: Migration0009RefreshSuccessor },
  { name: '0010-pending-signups', class: Migration0010PendingSignups },
  { name: '0011-reconciliation-cases', class: Migration0011ReconciliationCases },
];

/** Opens the ORM for one process; callers fork an EntityManager per unit of work. */
export async function createOrm(database: Config['database'], options: { debug?: boolean } = {}) {
  return MikroORM.init({
    clientUrl: database.url,
    entities,
    extensions: [Migrator],
    migrations: { migrationsList, transactional: true, allOrNothing: true },
    pool: { min: 0, max: database.poolMax },
    // TLS as the URL's sslmode asks (MikroORM passes the URL's host and credentials only, never its query).
    driverOptions: { connection: { ssl: postgresSsl(database) } },
    debug: options.debug ?? false,
    // We never discover entities from the filesystem: the list above is the schema.
    discovery: { warnWhenNoEntities: true },
    allowGlobalContext: false,
  });
}

export type Orm = Awaited<ReturnType<typeof createOrm>>;

/** Applies pending migrations on an ORM opened as the owner (see migrateDatabase in roles.ts); safe to run on every start. */
export async function migrate(orm: Orm): Promise<void> {
  await orm.getMigrator().up();
}

/** What readiness asks of Postgres: one round trip on the pool (api/routes/health.ts's DatabasePing). */
export function databasePing(orm: Orm) {
  return { ping: () => orm.em.getConnection().execute('select 1') };
}
