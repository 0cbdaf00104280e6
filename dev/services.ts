import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { requireMigrationDatabase } from '../infra/config.js';
import type { DevConfig } from './config.js';
import {
  childService, hostPort, isLocalHost, portAnswers, rawExchange, reusedHandle, run, since, startedHandle,
  tail, waitUntilReady, type RunResult, type ServiceContext, type ServiceHandle,
} from './process.js';

/** The local services ensureServices can reuse or start. */
export type ServiceName = 'postgres' | 'redis' | 'temporal' | 'kms' | 'stripe' | 'sandbox';

/** Every service ensureServices knows. */
export const SERVICE_NAMES: readonly ServiceName[] = ['postgres', 'redis', 'temporal', 'kms', 'stripe', 'sandbox'];


interface Cluster { version: string; name: string; logFile: string }

const asRoot = process.getuid?.() === 0;

/** Runs a command as root (pg_ctlcluster) or as the postgres OS user (psql over its peer-authenticated socket). */
function privileged(user: 'root' | 'postgres', command: string, args: string[], input?: string): Promise<RunResult> {
  if (asRoot) return user === 'root' ? run(command, args) : run('runuser', ['-u', 'postgres', '--', command, ...args], { input });
  return run('sudo', ['-n', ...(user === 'root' ? [] : ['-u', 'postgres']), command, ...args], { input });
}

async function pgCtl(cluster: Cluster, action: 'start' | 'stop', logFile: string): Promise<RunResult> {
  const result = await privileged('root', 'pg_ctlcluster', [cluster.version, cluster.name, action]);
  appendFileSync(logFile, `--- ${new Date().toISOString()} pg_ctlcluster ${cluster.version} ${cluster.name} ${action}: exit ${result.code}\n${result.stdout}${result.stderr}`);
  if (result.code !== 0) {
    throw new Error(`postgres: pg_ctlcluster ${cluster.version} ${cluster.name} ${action} failed:\n${result.stderr.trim()}\n${tail(cluster.logFile)}`);
  }
  return result;
}

/** The Debian cluster configured for this port, so the version is never hard-coded. */
async function findCluster(port: number): Promise<Cluster> {
  const listed = await run('pg_lsclusters', ['--no-header']);
  if (listed.code !== 0) throw new Error('postgres: pg_lsclusters failed; run bash dev/install.sh');
  const clusters = listed.stdout.trim().split('\n').map((line) => line.trim().split(/\s+/));
  const match = clusters.find((fields) => fields[2] === String(port));
  if (!match?.[0] || !match[1]) throw new Error(`postgres: no cluster is configured for port ${port}:\n${listed.stdout}`);
  return { version: match[0], name: match[1], logFile: match[6] ?? '/var/log/postgresql' };
}

const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** Creates or updates MIGRATION_DATABASE_URL's role (the owner) and database; idempotent, so it runs on every start. */
async function ensureRoleAndDatabase(ctx: ServiceContext, databaseUrl: string, port: number): Promise<void> {
  const url = new URL(databaseUrl);
  const role = decodeURIComponent(url.username) || 'postgres';
  const database = decodeURIComponent(url.pathname.slice(1)) || role;
  const password = url.password ? ` PASSWORD ${literal(decodeURIComponent(url.password))}` : '';
  // format(%I) quotes identifiers server-side; CREATE DATABASE cannot run inside DO, hence \gexec.
  // CREATEROLE lets migration 0006 create travelconnect_app, the application's least-privileged role,
  // and the migration step (infra/db/roles.ts) give it DATABASE_URL's password.
  const sql = [
    `SELECT format('CREATE ROLE %I', ${literal(role)}) WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(role)}) \\gexec`,
    `SELECT format('ALTER ROLE %I WITH LOGIN CREATEDB CREATEROLE', ${literal(role)}) || ${literal(password)} \\gexec`,
    `SELECT format('CREATE DATABASE %I OWNER %I', ${literal(database)}, ${literal(role)}) WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = ${literal(database)}) \\gexec`,
    `SELECT format('ALTER DATABASE %I OWNER TO %I', ${literal(database)}, ${literal(role)}) \\gexec`,
  ].join('\n');
  const psql = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-p', String(port), '-d', 'postgres', '-f', '-'];
  let result = await privileged('postgres', 'psql', psql, sql);
  // A concurrent ensureServices may have created the same role or database in between.
  if (result.code !== 0) result = await privileged('postgres', 'psql', psql, sql);
  if (result.code !== 0) throw new Error(`postgres: could not ensure role ${role} and database ${database}:\n${result.stderr.trim()}`);
  ctx.log(`postgres: role ${role} and database ${database} ready`);
}

/**
 * A login role with CREATEDB on the local cluster at `port` (the Temporal cluster's own, which
 * creates its databases with Temporal's schema tool); its password set to `password` each time.
 */
export async function ensureLoginRole(port: number, role: string, password: string): Promise<void> {
  const sql = [
    `SELECT format('CREATE ROLE %I', ${literal(role)}) WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(role)}) \\gexec`,
    `SELECT format('ALTER ROLE %I WITH LOGIN CREATEDB PASSWORD %L', ${literal(role)}, ${literal(password)}) \\gexec`,
  ].join('\n');
  const result = await privileged('postgres', 'psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-p', String(port), '-d', 'postgres', '-f', '-'], sql);
  if (result.code !== 0) throw new Error(`postgres: could not ensure role ${role}:\n${result.stderr.trim()}`);
}

async function postgres(ctx: ServiceContext): Promise<ServiceHandle> {
  const { url } = requireMigrationDatabase(ctx.config);
  const { host, port } = hostPort(url, 5432);
  let handle = reusedHandle('postgres');
  if (await portAnswers(host, port)) ctx.log(`postgres: reusing ${host}:${port}`);
  else {
    if (!isLocalHost(host)) throw new Error(`postgres: nothing answers on ${host}:${port}, and a remote host cannot be started from here`);
    const cluster = await findCluster(port);
    const began = Date.now();
    await pgCtl(cluster, 'start', ctx.logFile);
    await waitUntilReady('postgres', () => portAnswers(host, port), { timeoutMs: 30_000, logFile: cluster.logFile });
    ctx.log(`postgres: started cluster ${cluster.version}/${cluster.name} on ${host}:${port} in ${since(began)}`);
    handle = startedHandle('postgres', ctx.log, async () => void (await pgCtl(cluster, 'stop', ctx.logFile)));
  }
  // Without the local superuser (e.g. Postgres in Docker) the image's POSTGRES_USER has made the role.
  if (!isLocalHost(host) || (await run('id', ['-u', 'postgres'])).code !== 0) {
    ctx.log('postgres: no local postgres OS user; assuming the role and database exist');
    return handle;
  }
  try {
    await ensureRoleAndDatabase(ctx, url, port);
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}

function redis(ctx: ServiceContext): Promise<ServiceHandle> {
  const { host, port } = hostPort(ctx.config.redis.url, 6379);
  const dir = join(ctx.root, '.data', 'redis');
  mkdirSync(dir, { recursive: true });
  return childService('redis', ctx, {
    host, port, timeoutMs: 10_000,
    command: 'redis-server',
    args: ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--daemonize', 'no'],
    // It accepts connections while still loading its dump; PONG means it serves commands.
    ready: async () => (await rawExchange(host, port, 'PING\r\n')).startsWith('+PONG'),
  });
}

async function temporal(ctx: ServiceContext): Promise<ServiceHandle> {
  const { address, namespace, uiUrl } = ctx.config.temporal;
  const { host, port } = hostPort(address, 7233);
  const cli = join(ctx.root, '.tools', 'bin', 'temporal');
  const target = ['--namespace', namespace, '--address', `${host}:${port}`];
  const handle = await childService('temporal', ctx, {
    host, port, timeoutMs: 90_000, graceMs: 10_000,
    command: cli,
    args: [
      'server', 'start-dev', '--ip', host, '--port', String(port), '--ui-port', String(hostPort(uiUrl, 8233).port),
      '--db-filename', join(ctx.root, '.data', 'temporal.db'), '--namespace', namespace, '--log-level', 'warn',
      // The test suite's own namespace, so its bookings stay out of the developer's view.
      '--namespace', 'travelconnect-test',
      // The UI decrypts payloads through our API's codec server (operators only; see README).
      '--ui-codec-endpoint', `http://127.0.0.1:${ctx.config.api.port}/codec`,
      // The dev server hands out at most 20 transfer tasks a second by default, which throttles
      // every saga step under load (BENCHMARKS.md); production clusters are tuned, this mirrors that.
      '--dynamic-config-value', 'history.transferProcessorMaxPollRPS=1000',
    ],
    // The gRPC port opens before the namespace is registered; workers started then fail.
    ready: async () =>
      (await portAnswers(host, port)) && (await run(cli, ['operator', 'namespace', 'describe', ...target])).code === 0,
  });
  // The search attributes are registered by the worker at start-up (infra/temporal/search-attributes.ts).
  return handle;
}

async function kms(ctx: ServiceContext): Promise<ServiceHandle> {
  const { endpoint, region, keyId } = ctx.config.kms;
  if (!endpoint) {
    ctx.log('kms: no KMS_ENDPOINT, the app uses AWS KMS');
    return reusedHandle('kms');
  }
  const { host, port } = hostPort(endpoint, new URL(endpoint).protocol === 'https:' ? 443 : 80);
  const dataPath = join(ctx.root, '.data', 'kms');
  mkdirSync(dataPath, { recursive: true });
  const handle = await childService('kms', ctx, {
    host, port, timeoutMs: 15_000,
    command: join(ctx.root, '.tools', 'bin', 'local-kms'),
    args: [],
    env: {
      PORT: String(port), KMS_REGION: region, KMS_ACCOUNT_ID: '111122223333',
      KMS_DATA_PATH: dataPath, KMS_SEED_PATH: join(ctx.root, 'dev', 'kms', 'seed.yaml'),
    },
  });
  // Keys live under region-specific ARNs, so a changed KMS_REGION silently loses the seeded key.
  const described = await fetch(endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.DescribeKey' },
    body: JSON.stringify({ KeyId: keyId }),
  }).catch(() => null);
  if (!described?.ok) ctx.log(`kms: warning: ${keyId} is not known to ${endpoint} (see dev/kms/seed.yaml)`);
  return handle;
}

async function stripe(ctx: ServiceContext): Promise<ServiceHandle> {
  const { apiUrl } = ctx.config.stripe;
  if (!apiUrl) {
    ctx.log('stripe: no STRIPE_API_URL, the app uses the real Stripe API');
    return reusedHandle('stripe');
  }
  const { host, port } = hostPort(apiUrl, 80);
  const hooks = `${apiUrl.replace(/\/$/, '')}/_tc/requests`;
  const shimAnswers = async () => (await fetch(hooks).catch(() => null))?.status === 200;
  const handle = await childService('stripe', ctx, {
    host, port, timeoutMs: 20_000,
    command: join(ctx.root, '.tools', 'venv', 'bin', 'python'),
    args: [
      join(ctx.root, 'dev', 'stripe', 'stripe_fake.py'), '--port', String(port),
      '--store', join(ctx.root, '.data', 'localstripe.pickle'),
    ],
    ready: shimAnswers,
  });
  if (!handle.started && !(await shimAnswers())) {
    ctx.log(`stripe: warning: ${apiUrl} is not the idempotency shim; Idempotency-Key is not honoured there`);
  }
  return handle;
}

function sandbox(ctx: ServiceContext): Promise<ServiceHandle> {
  const { port } = ctx.config.sandbox;
  const entry = join(ctx.root, 'dev', 'sandbox', 'server.ts');
  if (!existsSync(entry)) return Promise.reject(new Error(`sandbox: ${entry} does not exist`));
  return childService('sandbox', ctx, {
    host: '127.0.0.1', port, timeoutMs: 30_000,
    // Not `npx tsx`: npx -> sh -> tsx -> node is four processes and SIGTERM to npx orphans the server.
    command: process.execPath,
    args: ['--import', 'tsx', entry],
    env: { NODE_ENV: ctx.config.nodeEnv, SANDBOX_PROVIDER_PORT: String(port) },
    ready: async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.status === 200,
  });
}

const LAUNCHERS: Record<ServiceName, (ctx: ServiceContext) => Promise<ServiceHandle>> = {
  postgres, redis, temporal, kms, stripe, sandbox,
};

/** Reuses each service whose port answers and starts the others (concurrently); on any failure stops what it started and throws. */
export async function ensureServices(
  config: DevConfig,
  opts: { root: string; log: (line: string) => void; only?: ServiceName[] },
): Promise<{ handles: ServiceHandle[]; stopAll(): Promise<void> }> {
  const logs = join(opts.root, '.data', 'logs');
  mkdirSync(logs, { recursive: true });
  const names = opts.only ?? SERVICE_NAMES;
  const settled = await Promise.allSettled(
    names.map((name) =>
      LAUNCHERS[name]({ config, root: opts.root, log: opts.log, logFile: join(logs, `${name}.log`) }),
    ),
  );
  const handles = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stopAll = async () => {
    await Promise.all(handles.map((h) => h.stop().catch((e: unknown) => opts.log(`${h.name}: stop failed: ${String(e)}`))));
  };
  const failures = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length > 0) {
    await stopAll();
    throw new Error(failures.map((f) => (f instanceof Error ? f.message : String(f))).join('\n\n'));
  }
  return { handles, stopAll };
}
