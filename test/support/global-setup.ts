import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { loadConfig, requireMigrationDatabase } from '../../infra/config.js';
import { createOrm } from '../../infra/db/orm.js';
import { migrateDatabase } from '../../infra/db/roles.js';
import { ensureServices } from '../../infra/dev/services.js';
import { ensureSearchAttributes } from '../../infra/temporal/search-attributes.js';
import { ensureNamespace } from '../../infra/temporal/namespace.js';
import { TEST_NAMESPACE } from './namespace.js';
import { Connection } from '@temporalio/client';

const root = fileURLToPath(new URL('../..', import.meta.url));

declare module 'vitest' {
  export interface ProvidedContext {
    /** This run's database as the application role (travelconnect_app): what the API and worker use. */
    databaseUrl: string;
    /** The same database as its owner, for tests that migrate, create databases or play the operator. */
    migrationDatabaseUrl: string;
  }
}

/**
 * Starts whatever real service is not running yet, and gives this run a database of its own,
 * migrated by its owner; the tests' stacks connect to it as the application role.
 */
export default async function setup(project: TestProject) {
  const config = loadConfig({ ...process.env, NODE_ENV: 'test' });
  const services = await ensureServices(config, {
    root,
    log: (line) => process.stdout.write(`[services] ${line}\n`),
    only: ['postgres', 'redis', 'temporal', 'kms', 'stripe'],
  });

  // Test bookings live in a namespace of their own, out of the way of the developer's Web UI.
  const temporal = await Connection.connect({ address: config.temporal.address });
  await ensureNamespace(temporal, TEST_NAMESPACE);
  await ensureSearchAttributes(temporal, TEST_NAMESPACE);
  await temporal.close();

  const database = `tc_test_${Date.now()}_${randomBytes(3).toString('hex')}`;
  // The database name is built above from digits and hex only; DDL takes no parameters.
  const owner = requireMigrationDatabase(config);
  const admin = await createOrm(owner);
  await admin.em.getConnection().execute(`create database ${database}`);
  const on = (base: string) => {
    const url = new URL(base);
    url.pathname = `/${database}`;
    return url.toString();
  };
  const urls = { app: on(config.database.url), owner: on(owner.url) };
  await migrateDatabase({
    isProduction: false,
    database: { ...config.database, url: urls.app },
    migrationDatabase: { ...owner, url: urls.owner },
  });
  project.provide('databaseUrl', urls.app);
  project.provide('migrationDatabaseUrl', urls.owner);

  return async () => {
    await admin.em.getConnection().execute(`drop database if exists ${database} with (force)`);
    await admin.close();
    await services.stopAll();
  };
}
