import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { Config } from '../config.js';

/** A Temporal client for the API and tests; production passes the encrypting data converter. */
export async function createTemporalClient(temporal: Config['temporal'], dataConverter?: DataConverter): Promise<Client> {
  const connection = await Connection.connect({ address: temporal.address });
  return new Client({ connection, namespace: temporal.namespace, dataConverter });
}

/** The workflow bundle's entry: TypeScript sources under tsx, compiled JavaScript from dist. */
export function workflowsPath(): string {
  const ts = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));
  return existsSync(ts) ? ts : fileURLToPath(new URL('../../workflows/index.js', import.meta.url));
}
