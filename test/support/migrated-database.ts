import { randomBytes } from 'node:crypto';
import { requireMigrationDatabase, type Config } from '../../infra/config.js';
import { createOrm } from '../../infra/db/orm.js';
import { migrateDatabase } from '../../infra/db/roles.js';

/**
 * A database of its own, created and migrated by the owner: the connection settings of the
 * application role (`database`, as the API and worker connect) and of the owner
 * (`migrationDatabase`) to it, and `drop()`.
 */
export async function createMigratedDatabase(config: Pick<Config, 'database' | 'migrationDatabase'>, prefix: 'tc_test' | 'tc_audit') {
  const owner = requireMigrationDatabase(config);
  // A fixed prefix, digits and hex only: DDL takes no parameters.
  const name = `${prefix}_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const admin = await createOrm(owner);
  await admin.em.getConnection().execute(`create database ${name}`);
  const on = (base: string) => {
    const url = new URL(base);
    url.pathname = `/${name}`;
    return url.toString();
  };
  const database = { ...config.database, url: on(config.database.url) };
  const migrationDatabase = { ...owner, url: on(owner.url) };
  await migrateDatabase({ isProduction: false, database, migrationDatabase });
  return {
    name,
    database,
    migrationDatabase,
    async drop() {
      await admin.em.getConnection().execute(`drop database if exists ${name} with (force)`);
      await admin.close();
    },
  };
}
