import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { BundleOptions } from '@temporalio/worker';
import type { Config } from '../config.js';
import { failureConverterPath } from './data-converter.js';
import { tracingClientInterceptors, workflowInterceptorModules } from './tracing.js';

/** What both the client's Connection and the worker's NativeConnection take. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
  metadata?: Record<string, string>;
}

/**
 * The connection to the frontend: plaintext, TLS (the server's CA and name), mTLS (a client
 * certificate and key) or Temporal Cloud's API key over TLS. The files are read here, at connect
 * time, so the client key never sits in the config.
 */
export function temporalConnectionOptions(temporal: Pick<Config['temporal'], 'address' | 'namespace' | 'tls' | 'apiKey'>): TemporalConnectionOptions {
  const { address, tls, apiKey } = temporal;
  if (!tls) return { address };
  return {
    address,
    tls: {
      ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
      ...(tls.caFile ? { serverRootCACertificate: readFileSync(tls.caFile) } : {}),
      ...(tls.certFile && tls.keyFile ? { clientCertPair: { crt: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) } } : {}),
    },
    // Temporal Cloud's regional endpoints route an API-key call by its namespace header.
    ...(apiKey ? { apiKey, metadata: { 'temporal-namespace': temporal.namespace } } : {}),
  };
}

/**
 * A Temporal client for the API and tests; production passes the encrypting data converter. Its
 * workflow starts and signals carry the caller's trace (a no-op while tracing is off).
 */
export async function createTemporalClient(temporal: Config['temporal'], dataConverter?: DataConverter): Promise<Client> {
  const connection = await Connection.connect(temporalConnectionOptions(temporal));
  return new Client({ connection, namespace: temporal.namespace, dataConverter, interceptors: tracingClientInterceptors() });
}

/** The workflow bundle's entry: TypeScript sources under tsx, compiled JavaScript from dist. */
export function workflowsPath(): string {
  const ts = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));
  return existsSync(ts) ? ts : fileURLToPath(new URL('../../workflows/index.js', import.meta.url));
}

/**
 * What every workflow bundle is built from: the workers' own, `npm run build:workflows` and the tests'
 * prebuilt ones. The OpenTelemetry workflow interceptors are in it whether tracing exports or not.
 */
export function workflowBundleOptions(): Pick<BundleOptions, 'workflowsPath' | 'workflowInterceptorModules' | 'failureConverterPath'> {
  return { workflowsPath: workflowsPath(), workflowInterceptorModules: [...workflowInterceptorModules], failureConverterPath };
}
