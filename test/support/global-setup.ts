import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../infra/config.js';
import { createOrm, migrate } from '../../infra/db/orm.js';
import { ensureServices } from '../../infra/dev/services.js';
import { ensureSearchAttributes } from '../../infra/temporal/search-attributes.js';
import { ensureNamespace } from '../../infra/temporal/namespace.js';
import { TEST_NAMESPACE } from './namespace.js';
import { Connection } from '@temporalio/client';

const root = fileURLToPath(new URL('../..', import.meta.url));

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

/** Starts whatever real service is not running yet, and gives this run a database of its own. */
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
  const admin = await createOrm(config.database);
  await admin.em.getConnection().execute(`create database ${database}`);
  const url = new URL(config.database.url);
  url.pathname = `/${database}`;
  const orm = await createOrm({ ...config.database, url: url.toString() });
  await migrate(orm);
  await orm.close();
  project.provide('databaseUrl', url.toString());

  return async () => {
    await admin.em.getConnection().execute(`drop database if exists ${database} with (force)`);
    await admin.close();
    await services.stopAll();
  };
}
