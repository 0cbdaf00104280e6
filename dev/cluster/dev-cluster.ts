import { join } from 'node:path';
import { requireMigrationDatabase, type Config } from '../../infra/config.js';
import { hostPort } from '../process.js';
import { ensureLoginRole } from '../services.js';
import { localPki, type IssuedCert } from './pki.js';
import { STANDARD_PORTS, startTemporalCluster, type TemporalCluster } from './temporal-cluster.js';

// The cluster's own role on the development Postgres; a development-only password like the others.
const ROLE = 'temporal';
const PASSWORD = 'development-only-temporal-password';

/**
 * `npm run up -- --cluster`: the Temporal cluster on the development Postgres (databases `temporal`
 * and `temporal_visibility`, role `temporal`) on Temporal's standard ports, its certificates from a
 * local CA in .data/pki (never committed). Returns the environment the API and the worker connect to it with, and the
 * operator's client certificate for the CLI.
 */
export async function startDevCluster(
  config: Config,
  root: string,
  log: (line: string) => void,
): Promise<{ cluster: TemporalCluster; env: NodeJS.ProcessEnv; operator: IssuedCert; caFile: string }> {
  const { host, port } = hostPort(requireMigrationDatabase(config).url, 5432);
  await ensureLoginRole(port, ROLE, PASSWORD);
  const pki = await localPki(join(root, '.data', 'pki'));
  const cluster = await startTemporalCluster({
    root,
    dir: join(root, '.data', 'temporal-cluster'),
    pki,
    store: { host, port, user: ROLE, password: PASSWORD },
    shards: 4,
    // Temporal's standard ports, moved with TEMPORAL_ADDRESS (17233 puts every port 10000 higher).
    ports: { offset: hostPort(config.temporal.address, 7233).port - STANDARD_PORTS.frontend.grpc },
    namespaces: [config.temporal.namespace],
    log,
  });
  const operator = await cluster.issueClient('operator');
  return {
    cluster,
    operator,
    caFile: pki.caFile,
    env: {
      TEMPORAL_ADDRESS: cluster.address,
      TEMPORAL_TLS: 'true',
      TEMPORAL_TLS_CA_FILE: cluster.caFile,
      TEMPORAL_TLS_SERVER_NAME: cluster.serverName,
      TEMPORAL_TLS_CERT_FILE: cluster.client.certFile,
      TEMPORAL_TLS_KEY_FILE: cluster.client.keyFile,
    },
  };
}

/** The CLI flags that reach the cluster over mTLS as the operator. */
export function cliTlsFlags(cluster: TemporalCluster, operator: IssuedCert): string[] {
  return [
    '--address', cluster.address, '--tls-ca-path', cluster.caFile, '--tls-cert-path', operator.certFile,
    '--tls-key-path', operator.keyFile, '--tls-server-name', cluster.serverName,
  ];
}
