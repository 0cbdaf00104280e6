/**
 * The Temporal server's static configuration (one YAML file per server process, all from this one
 * template): Postgres persistence and visibility, the shard count, every service's loopback ports
 * and TLS for the frontend (mTLS), the internode traffic (mTLS) and the system worker's client.
 */

/** The Temporal services, each run as a process of its own. */
export type TemporalRole = 'frontend' | 'history' | 'matching' | 'worker';
export const TEMPORAL_ROLES: readonly TemporalRole[] = ['frontend', 'history', 'matching', 'worker'];

/** A service's ports: gRPC, the membership ring (ringpop) and, for the frontend, its HTTP API. */
export interface RolePorts {
  grpc: number;
  membership: number;
  http?: number;
}

export interface SqlStore {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** verify-full against this CA (the server's name is the host's certificate name). */
  tls?: { caFile: string; serverName: string };
}

/**
 * Three CAs, so that a certificate is good for one thing: the server CA signs what the frontend
 * presents (clients verify it with TEMPORAL_TLS_CA_FILE); the client CA signs the certificates the
 * frontend accepts (the application's, the operators', the system worker's); the internode CA signs
 * what the services present to each other, and nothing else gets into history or matching.
 */
export interface ClusterTls {
  serverCaFile: string;
  clientCaFile: string;
  internodeCaFile: string;
  /** What the frontend presents to clients, and the name clients check it against. */
  frontend: { certFile: string; keyFile: string; serverName: string };
  /** What history, matching and the worker present to each other (and to the frontend). */
  internode: { certFile: string; keyFile: string; serverName: string };
  /** The client certificate of the system worker (schedules, retention) towards the frontend. */
  systemWorker: { certFile: string; keyFile: string };
}

export interface ClusterConfigInput {
  shards: number;
  persistence: SqlStore;
  visibility: SqlStore;
  /** This process's ports for every role (only its own role's are bound). */
  ports: Record<TemporalRole, RolePorts>;
  tls: ClusterTls;
  dynamicConfigFile: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

// JSON strings are valid YAML scalars: every value is quoted exactly once, whatever it holds.
const q = (value: string | number | boolean) => JSON.stringify(value);

function sql(store: SqlStore, maxConns: number): string[] {
  const tls = store.tls
    ? [
        '      tls:',
        '        enabled: true',
        `        caFile: ${q(store.tls.caFile)}`,
        `        serverName: ${q(store.tls.serverName)}`,
        '        enableHostVerification: true',
      ]
    : [];
  return [
    '    sql:',
    '      pluginName: "postgres12"',
    `      databaseName: ${q(store.database)}`,
    `      connectAddr: ${q(`${store.host}:${store.port}`)}`,
    '      connectProtocol: "tcp"',
    `      user: ${q(store.user)}`,
    `      password: ${q(store.password)}`,
    `      maxConns: ${maxConns}`,
    `      maxIdleConns: ${maxConns}`,
    '      maxConnLifetime: "1h"',
    ...tls,
  ];
}

function service(role: TemporalRole, ports: RolePorts): string[] {
  return [
    `  ${role}:`,
    '    rpc:',
    `      grpcPort: ${ports.grpc}`,
    `      membershipPort: ${ports.membership}`,
    '      bindOnIP: "127.0.0.1"',
    ...(ports.http ? [`      httpPort: ${ports.http}`] : []),
  ];
}

/** Renders one server process's configuration file. */
export function renderClusterConfig(input: ClusterConfigInput): string {
  const { tls, ports } = input;
  const frontend = `127.0.0.1:${ports.frontend.grpc}`;
  return [
    'log:',
    '  stdout: true',
    `  level: ${q(input.logLevel)}`,
    'persistence:',
    '  defaultStore: postgres-default',
    '  visibilityStore: postgres-visibility',
    `  numHistoryShards: ${input.shards}`,
    '  datastores:',
    '    postgres-default:',
    ...sql(input.persistence, 20).map((line) => `  ${line}`),
    '    postgres-visibility:',
    ...sql(input.visibility, 5).map((line) => `  ${line}`),
    'global:',
    '  membership:',
    '    maxJoinDuration: 30s',
    '    broadcastAddress: "127.0.0.1"',
    '  pprof:',
    '    port: 0',
    '  tls:',
    '    internode:',
    '      server:',
    '        requireClientAuth: true',
    `        certFile: ${q(tls.internode.certFile)}`,
    `        keyFile: ${q(tls.internode.keyFile)}`,
    `        clientCaFiles: [${q(tls.internodeCaFile)}]`,
    '      client:',
    `        serverName: ${q(tls.internode.serverName)}`,
    `        rootCaFiles: [${q(tls.internodeCaFile)}]`,
    '    frontend:',
    '      server:',
    '        requireClientAuth: true',
    `        certFile: ${q(tls.frontend.certFile)}`,
    `        keyFile: ${q(tls.frontend.keyFile)}`,
    `        clientCaFiles: [${q(tls.clientCaFile)}]`,
    '      client:',
    `        serverName: ${q(tls.frontend.serverName)}`,
    `        rootCaFiles: [${q(tls.serverCaFile)}]`,
    '    systemWorker:',
    `      certFile: ${q(tls.systemWorker.certFile)}`,
    `      keyFile: ${q(tls.systemWorker.keyFile)}`,
    '      client:',
    `        serverName: ${q(tls.frontend.serverName)}`,
    `        rootCaFiles: [${q(tls.serverCaFile)}]`,
    'services:',
    ...TEMPORAL_ROLES.flatMap((role) => service(role, ports[role])),
    'clusterMetadata:',
    '  enableGlobalNamespace: false',
    '  failoverVersionIncrement: 10',
    '  masterClusterName: "active"',
    '  currentClusterName: "active"',
    '  clusterInformation:',
    '    active:',
    '      enabled: true',
    '      initialFailoverVersion: 1',
    '      rpcName: "frontend"',
    `      rpcAddress: ${q(frontend)}`,
    ...(ports.frontend.http ? [`      httpAddress: ${q(`127.0.0.1:${ports.frontend.http}`)}`] : []),
    'dcRedirectionPolicy:',
    '  policy: "noop"',
    'dynamicConfigClient:',
    `  filepath: ${q(input.dynamicConfigFile)}`,
    '  pollInterval: "10s"',
    '',
  ].join('\n');
}

/**
 * Dynamic configuration: a namespace or search attribute registered through the frontend reaches
 * history and matching within seconds, and transfer tasks are not throttled to the default 20 a
 * second (the same tuning the dev server gets in dev/services.ts). Worker Deployment Versioning
 * (README "Deploying workflow changes"): deployment versions in every service and the versioning
 * fields of the workflow APIs. Server 1.29 turns both on by default; written out, because without them
 * the frontend refuses `set-current-version` and a roll cannot happen.
 */
export const CLUSTER_DYNAMIC_CONFIG = [
  'system.namespaceCacheRefreshInterval:',
  '  - value: 2s',
  'history.transferProcessorMaxPollRPS:',
  '  - value: 1000',
  'history.timerProcessorMaxPollRPS:',
  '  - value: 1000',
  'system.enableDeploymentVersions:',
  '  - value: true',
  'frontend.workerVersioningWorkflowAPIs:',
  '  - value: true',
  '',
].join('\n');
