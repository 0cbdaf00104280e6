import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { loadDevConfig } from '../../dev/config.js';
import { ensureServices } from '../../dev/services.js';
import { ensureSearchAttributes } from '../../infra/temporal/search-attributes.js';
import { ensureNamespace } from '../../infra/temporal/namespace.js';
import { TEST_NAMESPACE } from './namespace.js';
import { createMigratedDatabase } from './migrated-database.js';
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
  const config = loadDevConfig({ ...process.env, NODE_ENV: 'test' });
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

  const database = await createMigratedDatabase(config, 'tc_test');
  project.provide('databaseUrl', database.database.url);
  project.provide('migrationDatabaseUrl', database.migrationDatabase.url);

  return async () => {
    await database.drop();
    await services.stopAll();
  };
}
