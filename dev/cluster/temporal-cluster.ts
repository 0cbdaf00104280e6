import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { ensureNamespace } from '../../infra/temporal/namespace.js';
import { ensureSearchAttributes } from '../../infra/temporal/search-attributes.js';
import { portAnswers, run, spawnLogged, stopChild, waitUntilReady, type Spawned } from '../process.js';
import {
  CLUSTER_DYNAMIC_CONFIG, renderClusterConfig, TEMPORAL_ROLES, type ClusterTls, type RolePorts, type SqlStore, type TemporalRole,
} from './cluster-config.js';
import { localPki, type IssuedCert, type LocalPki } from './pki.js';

/** The name clients check the frontend's certificate against (TEMPORAL_TLS_SERVER_NAME). */
export const FRONTEND_SERVER_NAME = 'frontend.temporal.local';
const INTERNODE_SERVER_NAME = 'internode.temporal.local';

/** The ports `npm run up -- --cluster` uses: the Temporal server's own defaults, so tools find it. */
export const STANDARD_PORTS: Record<TemporalRole, RolePorts> = {
  frontend: { grpc: 7233, membership: 6933, http: 7243 },
  history: { grpc: 7234, membership: 6934 },
  matching: { grpc: 7235, membership: 6935 },
  worker: { grpc: 7239, membership: 6939 },
};

/** One server process of the cluster: `history-2` is the second history service. */
export interface ClusterProcess {
  readonly name: string;
  readonly role: TemporalRole;
  /** Its gRPC port: the frontend's serves clients, the others internode traffic (none for the worker service). */
  readonly grpcPort: number;
  readonly running: boolean;
  /** Starts it (again, on the same ports) and waits until it listens. */
  start(): Promise<void>;
  /** SIGKILL: a crash, not a shutdown. Resolves once it has exited. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface TemporalCluster {
  /** The frontend's host:port (TEMPORAL_ADDRESS). */
  address: string;
  serverName: string;
  /** The CA that signed the frontend's certificate (TEMPORAL_TLS_CA_FILE). */
  caFile: string;
  /** The client certificate the application presents (TEMPORAL_TLS_CERT_FILE / _KEY_FILE). */
  client: IssuedCert;
  /** What the services present to each other: good in the ring, refused by the frontend as a client. */
  internode: IssuedCert;
  /** Issues (or reuses) a certificate the frontend accepts as a client (an operator's, for the CLI). */
  issueClient(name: string): Promise<IssuedCert>;
  processes: ClusterProcess[];
  /** A client connection over mTLS with the application's certificate. */
  connect(): Promise<Connection>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  root: string;
  /** Generated configuration and logs. */
  dir: string;
  /** Signs the frontend's certificate; the client and internode CAs are made in its directory. */
  pki: LocalPki;
  /** The role and server the two databases live on (created here when missing; the role needs CREATEDB). */
  store: Omit<SqlStore, 'database'>;
  shards: number;
  /** How many processes of each service (default one each). */
  instances?: Partial<Record<TemporalRole, number>>;
  /** STANDARD_PORTS shifted by `offset` (so the frontend follows TEMPORAL_ADDRESS), or by an offset found free now. */
  ports: { offset: number } | 'free';
  namespaces: readonly string[];
  log: (line: string) => void;
  /** The servers' own log level (their logs: `<dir>/logs/<process>.log`). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

const DATABASES = { persistence: 'temporal', visibility: 'temporal_visibility' } as const;

/** The schema files install.sh copied from the server's Go module (schema/postgresql/v12). */
function schemaDir(root: string, kind: 'temporal' | 'visibility'): string {
  const dir = join(root, '.tools', 'temporal-schema', 'postgresql', 'v12', kind, 'versioned');
  if (!existsSync(dir)) throw new Error(`temporal cluster: ${dir} is missing; run bash dev/install.sh`);
  return dir;
}

/** Creates the database if needed and brings its schema to the newest version, with Temporal's own tool. */
async function applySchema(root: string, store: SqlStore, kind: 'temporal' | 'visibility', log: (line: string) => void): Promise<void> {
  const tool = join(root, '.tools', 'bin', 'temporal-sql-tool');
  const common = [
    '--plugin', 'postgres12', '--ep', store.host, '-p', String(store.port), '-u', store.user, '--db', store.database,
    ...(store.tls ? ['--tls', '--tls-ca-file', store.tls.caFile, '--tls-server-name', store.tls.serverName] : []),
  ];
  // The password travels in the environment, never on a command line that ps shows.
  const env = { ...process.env, SQL_PASSWORD: store.password };
  const sqlTool = async (args: string[], allowed?: RegExp) => {
    const result = await run(tool, [...common, ...args], { env, timeoutMs: 120_000 });
    if (result.code !== 0 && !(allowed && allowed.test(result.stderr + result.stdout))) {
      throw new Error(`temporal-sql-tool ${args[0]} on ${store.database} failed:\n${(result.stderr + result.stdout).trim().split('\n').slice(-8).join('\n')}`);
    }
  };
  await sqlTool(['create-database'], /already exists/);
  await sqlTool(['setup-schema', '-v', '0.0'], /already exists/);
  await sqlTool(['update-schema', '-d', schemaDir(root, kind)]);
  log(`temporal cluster: ${store.database} schema up to date`);
}

function portsFor(offset: number, role: TemporalRole, index: number): RolePorts {
  const base = STANDARD_PORTS[role];
  // A second instance of a role sits 100 above the first.
  const shift = offset + index * 100;
  return { grpc: base.grpc + shift, membership: base.membership + shift, ...(base.http ? { http: base.http + shift } : {}) };
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * An offset at which every port the cluster needs is free. Not the OS's ephemeral ports: Temporal
 * keeps membership ports in a smallint column, so they must stay below 32768.
 */
async function freeOffset(instances: ClusterOptions['instances']): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const offset = 10_000 + Math.floor(Math.random() * 1_500) * 10;
    const ports = TEMPORAL_ROLES.flatMap((role) =>
      Array.from({ length: instances?.[role] ?? 1 }, (_, index) => Object.values(portsFor(offset, role, index))),
    ).flat();
    if ((await Promise.all(ports.map(bindable))).every(Boolean)) return offset;
  }
  throw new Error('temporal cluster: found no free set of ports between 16933 and 32339');
}

/**
 * A Temporal cluster from the server built by install.sh: Postgres persistence and visibility,
 * `shards` history shards, and frontend, history, matching and worker as separate processes that
 * find each other through the membership ring; mTLS on the frontend and between the services.
 * Registers `namespaces` and the booking search attributes. Stops what it started on failure.
 */
export async function startTemporalCluster(options: ClusterOptions): Promise<TemporalCluster> {
  const { root, dir, pki, log } = options;
  const server = join(root, '.tools', 'bin', 'temporal-server');
  if (!existsSync(server)) throw new Error(`temporal cluster: ${server} is missing; run bash dev/install.sh`);
  const configDir = join(dir, 'config');
  const logDir = join(dir, 'logs');
  mkdirSync(configDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });

  const loopback = ['localhost'];
  const clients = await localPki(join(pki.dir, 'temporal-clients'));
  const members = await localPki(join(pki.dir, 'temporal-internode'));
  const tls: ClusterTls = {
    serverCaFile: pki.caFile,
    clientCaFile: clients.caFile,
    internodeCaFile: members.caFile,
    frontend: { ...(await pki.issue('temporal-frontend', [FRONTEND_SERVER_NAME, ...loopback])), serverName: FRONTEND_SERVER_NAME },
    internode: { ...(await members.issue('temporal-internode', [INTERNODE_SERVER_NAME, ...loopback])), serverName: INTERNODE_SERVER_NAME },
    systemWorker: await clients.issue('temporal-system-worker', ['temporal-system-worker']),
  };
  const client = await clients.issue('travelconnect-app', ['travelconnect-app']);

  const persistence: SqlStore = { ...options.store, database: DATABASES.persistence };
  const visibility: SqlStore = { ...options.store, database: DATABASES.visibility };
  await applySchema(root, persistence, 'temporal', log);
  await applySchema(root, visibility, 'visibility', log);

  const dynamicConfigFile = join(configDir, 'dynamic.yaml');
  writeFileSync(dynamicConfigFile, CLUSTER_DYNAMIC_CONFIG);

  // Every process's file names the frontend's ports (the cluster's address) and its own.
  const offset = options.ports === 'free' ? await freeOffset(options.instances) : options.ports.offset;
  const frontendPorts = portsFor(offset, 'frontend', 0);
  const specs: Array<{ name: string; role: TemporalRole; ports: RolePorts }> = [];
  for (const role of TEMPORAL_ROLES) {
    const count = options.instances?.[role] ?? 1;
    for (let index = 0; index < count; index += 1) {
      const ports = portsFor(offset, role, index);
      specs.push({ name: count === 1 ? role : `${role}-${index + 1}`, role, ports });
    }
  }
  const processes = specs.map((spec) => {
    const firsts = Object.fromEntries(TEMPORAL_ROLES.map((role) => [role, portsFor(offset, role, 0)])) as Record<TemporalRole, RolePorts>;
    const ports = { ...firsts, [spec.role]: spec.ports };
    writeFileSync(
      join(configDir, `${spec.name}.yaml`),
      renderClusterConfig({ shards: options.shards, persistence, visibility, ports, tls, dynamicConfigFile, logLevel: options.logLevel ?? 'warn' }),
      { mode: 0o600 }, // it holds the database password
    );
    // The worker service serves no gRPC, only the ring; the others answer once their gRPC is up.
    const readyPort = spec.role === 'worker' ? spec.ports.membership : spec.ports.grpc;
    return clusterProcess({ server, dir, name: spec.name, role: spec.role, grpcPort: spec.ports.grpc, readyPort, logFile: join(logDir, `${spec.name}.log`) });
  });

  const address = `127.0.0.1:${frontendPorts.grpc}`;
  const connect = () =>
    Connection.connect({
      address,
      tls: {
        serverNameOverride: FRONTEND_SERVER_NAME,
        serverRootCACertificate: readFileSync(pki.caFile),
        clientCertPair: { crt: readFileSync(client.certFile), key: readFileSync(client.keyFile) },
      },
      connectTimeout: 5_000,
    });
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop()));
  };
  try {
    const began = Date.now();
    // On a fresh database the first process writes the cluster's metadata and any other racing it
    // exits; the frontend goes first, alone, then the rest together.
    await processes[0]!.start();
    await Promise.all(processes.slice(1).map((p) => p.start()));
    // The frontend answers once the ring has history and matching in it; then the namespaces.
    const connection = await waitForFrontend(connect, join(logDir, 'frontend.log'));
    try {
      for (const namespace of options.namespaces) {
        await ensureNamespace(connection, namespace);
        const added = await ensureSearchAttributes(connection, namespace);
        if (added.length) log(`temporal cluster: search attributes ${added.join(', ')} registered in ${namespace}`);
      }
    } finally {
      await connection.close();
    }
    log(`temporal cluster: ${processes.map((p) => p.name).join(', ')} up on ${address} (mTLS, ${options.shards} shards) in ${((Date.now() - began) / 1000).toFixed(1)}s`);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    address,
    serverName: FRONTEND_SERVER_NAME,
    caFile: pki.caFile,
    client,
    internode: { certFile: tls.internode.certFile, keyFile: tls.internode.keyFile },
    issueClient: (name) => clients.issue(name, [name]),
    processes,
    connect,
    stop,
  };
}

async function waitForFrontend(connect: () => Promise<Connection>, logFile: string): Promise<Connection> {
  let connection: Connection | undefined;
  await waitUntilReady(
    'temporal frontend',
    async () => {
      connection ??= await connect();
      await connection.workflowService.getSystemInfo({});
      return true;
    },
    { timeoutMs: 120_000, logFile, intervalMs: 1_000 },
  );
  return connection!;
}

function clusterProcess(spec: { server: string; dir: string; name: string; role: TemporalRole; grpcPort: number; readyPort: number; logFile: string }): ClusterProcess {
  let spawned: Spawned | undefined;
  const alive = () => spawned !== undefined && spawned.exited === null;
  const args = ['--root', spec.dir, '--config', 'config', '--env', spec.name, '--allow-no-auth', 'start', '--service', spec.role];
  return {
    name: spec.name,
    role: spec.role,
    grpcPort: spec.grpcPort,
    get running() {
      return alive();
    },
    async start() {
      if (alive()) return;
      if (await portAnswers('127.0.0.1', spec.readyPort)) throw new Error(`temporal cluster: ${spec.name}'s port ${spec.readyPort} is taken`);
      spawned = spawnLogged(spec.server, args, { logFile: spec.logFile, cwd: spec.dir });
      await waitUntilReady(`temporal ${spec.name}`, () => portAnswers('127.0.0.1', spec.readyPort), {
        timeoutMs: 60_000, logFile: spec.logFile, spawned, intervalMs: 250,
      });
    },
    async kill() {
      if (!spawned || !alive()) return;
      const { child } = spawned;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (spawned && alive()) await stopChild(spawned.child, 10_000);
    },
  };
}
