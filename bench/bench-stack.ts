import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { createApp } from '../api/app.js';
import { createAuthComponents, type AuthComponents } from '../api/auth.components.js';
import { loadConfig, requireMigrationDatabase, type Config } from '../infra/config.js';
import { createFieldCipher } from '../infra/crypto/field-cipher.js';
import { countBookingsByStatus } from '../infra/db/booking-stats.js';
import { createDataKeyStore } from '../infra/db/data-key.store.js';
import { User } from '../infra/db/entities.js';
import { createOrm, type Orm } from '../infra/db/orm.js';
import { migrateDatabase } from '../infra/db/roles.js';
import { createKmsKeyService } from '../infra/kms/kms.key-service.js';
import type { Logger } from '../infra/logger.js';
import { createMetrics } from '../infra/metrics.js';
import { createFlightProvider } from '../infra/providers/flights.adapter.js';
import type { RateLimitResult, SlidingWindowLimiter } from '../infra/rate-limit/sliding-window.js';
import { createRedis, redisReady } from '../infra/redis.js';
import { createStripeClient } from '../infra/stripe/stripe.gateway.js';
import { createTemporalClient } from '../infra/temporal/connection.js';
import { createEncryptionCodec } from '../infra/temporal/encryption-codec.js';
import { encryptedDataConverter } from '../infra/temporal/data-converter.js';
import { ensureNamespace } from '../infra/temporal/namespace.js';
import { ensureSearchAttributes } from '../infra/temporal/search-attributes.js';
import { flightFor, offerIdFor, type FlightKey } from '../dev/sandbox/inventory.js';
import { freePort, spawnLogged, stopChild as stopService, waitUntilReady, type Spawned } from '../dev/process.js';

/**
 * What the benchmarks share: a database of their own (`tc_bench`, same migrations), their own
 * Temporal namespace and task queues, their own Redis key prefix, and the app composed the way
 * api/server.ts and test/support/stack.ts compose it. The running services are shared with other
 * people: nothing here stops or restarts them.
 */
export const BENCH_DATABASE = 'tc_bench';
export const BENCH_NAMESPACE = 'travelconnect-bench';
export { QUICK } from './harness.js';

/** The settings every bench process (and its children) loads, from the environment plus these. */
export function benchEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const base = loadConfig({ ...process.env, NODE_ENV: 'test' });
  const bench = (of: string) => {
    const url = new URL(of);
    url.pathname = `/${BENCH_DATABASE}`;
    return url.toString();
  };
  return {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    // As production runs: the application role; the owner only creates and migrates tc_bench.
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? bench(base.database.url),
    MIGRATION_DATABASE_URL: process.env.BENCH_MIGRATION_DATABASE_URL ?? bench(requireMigrationDatabase(base).url),
    TEMPORAL_NAMESPACE: BENCH_NAMESPACE,
    REDIS_KEY_PREFIX: process.env.REDIS_KEY_PREFIX?.startsWith('bench:') ? process.env.REDIS_KEY_PREFIX : `bench:${randomUUID().slice(0, 8)}:`,
    // The load generator stands in for a reverse proxy on loopback and names each client's IP.
    TRUSTED_PROXIES: '127.0.0.1,::1',
    WORKER_METRICS_PORT: '0',
    ...extra,
  };
}

/** Creates tc_bench when missing, applies the migrations as its owner, and readies the bench namespace. */
export async function prepareBench(config: Config): Promise<void> {
  const owner = requireMigrationDatabase(config);
  const database = new URL(owner.url).pathname.slice(1);
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`unexpected bench database name ${database}`);
  const adminUrl = new URL(owner.url);
  adminUrl.pathname = '/postgres';
  const admin = await createOrm({ ...owner, url: adminUrl.toString(), poolMax: 1 });
  const exists = await admin.em.getConnection().execute<Array<{ n: number }>>('select count(*)::int as n from pg_database where datname = ?', [database]);
  // The name is checked above; DDL takes no parameters.
  if (exists[0]!.n === 0) await admin.em.getConnection().execute(`create database ${database}`);
  await admin.close();
  await migrateDatabase({ ...config, migrationDatabase: { ...owner, poolMax: 1 } });
  const connection = await Connection.connect({ address: config.temporal.address });
  await ensureNamespace(connection, config.temporal.namespace, 1);
  await ensureSearchAttributes(connection, config.temporal.namespace);
  await connection.close();
}

/** The search limit's stand-in with the limiter off: always allows, never asks Redis. */
export function allowAllLimiter(): SlidingWindowLimiter {
  const answer = async (_key: string, policy: { limit: number }): Promise<RateLimitResult> => ({
    allowed: true,
    limit: policy.limit,
    remaining: policy.limit,
    resetMs: 0,
    retryAfterMs: 0,
  });
  return { hit: answer, peek: answer, reset: async () => undefined };
}

/** The API's parts, composed as api/server.ts does; `limiter: 'off'` swaps only the rate limiter. */
export async function composeApi(config: Config, options: { log: Logger; limiter?: 'on' | 'off'; taskQueue?: string }) {
  const orm = await createOrm(config.database);
  const keys = createKmsKeyService(config.kms);
  const codec = await createEncryptionCodec(keys);
  const temporal = await createTemporalClient(config.temporal, encryptedDataConverter(codec));
  const redis = createRedis(config.redis);
  await redisReady(redis);
  const parts: AuthComponents = createAuthComponents(config, { orm, redis });
  const auth = options.limiter === 'off' ? { ...parts, limiter: allowAllLimiter() } : parts;
  const providers = new Map([['sandbox', createFlightProvider({ baseUrl: config.providers.sandboxUrl, timeoutMs: config.providers.timeoutMs })]]);
  const app = createApp({
    codec,
    auth,
    redis,
    metrics: createMetrics({ countBookingsByStatus: () => countBookingsByStatus(orm), cacheMs: config.metrics.cacheMs }),
    config,
    log: options.log,
    orm,
    temporal,
    providers,
    cipher: createFieldCipher({ keys, store: createDataKeyStore(orm) }),
    stripe: createStripeClient(config.stripe),
    taskQueue: options.taskQueue,
  });
  return {
    app,
    auth,
    orm,
    redis,
    temporal,
    codec,
    async close() {
      await temporal.connection.close();
      await orm.close();
      redis.disconnect();
      keys.destroy();
    },
  };
}

/** Signed-in users minted with the app's own session store and token issuer (as test/support/sign-in.ts). */
export async function mintUsers(orm: Orm, auth: Pick<AuthComponents, 'sessions' | 'accessTokens'>, count: number) {
  const users: Array<{ userId: string; authorization: string }> = [];
  const em = orm.em.fork();
  const ids = Array.from({ length: count }, () => randomUUID());
  for (const userId of ids) em.create(User, { id: userId, email: `bench-${userId}@example.test`, role: 'user', name: 'Bench Traveller', emailVerifiedAt: new Date() });
  await em.flush();
  for (const userId of ids) {
    const { session } = await auth.sessions.create(userId, 'bench', '127.0.0.1');
    const { token } = await auth.accessTokens.issue({ userId, sessionId: session.id, role: 'user' });
    users.push({ userId, authorization: `Bearer ${token}` });
  }
  return users;
}

const AIRPORTS = ['JFK', 'LHR', 'CDG', 'FRA', 'AMS', 'MAD', 'FCO', 'BCN', 'MUC', 'ZRH', 'VIE', 'CPH', 'OSL', 'ARN', 'HEL', 'DUB', 'LIS', 'ATH', 'IST', 'WAW'];

/**
 * Sandbox offers, each on a flight of its own (every sandbox flight has at least 4 seats), so a
 * batch of sagas never sells out; `salt` spreads batches of one run over different flights.
 */
export function distinctOffers(count: number, salt = 0): Array<{ offerId: string; expectedMinor: number; currency: string }> {
  const offers = [];
  const pairs = AIRPORTS.length * (AIRPORTS.length - 1);
  const issuedAt = Date.now();
  for (let i = 0; i < count; i += 1) {
    const n = i + salt * count;
    const pair = n % pairs;
    const origin = AIRPORTS[Math.floor(pair / (AIRPORTS.length - 1))]!;
    const others = AIRPORTS.filter((a) => a !== origin);
    const destination = others[pair % (AIRPORTS.length - 1)]!;
    const day = Math.floor(n / pairs);
    const date = new Date(Date.UTC(2027, 0, 1) + (day % 700) * 86_400_000).toISOString().slice(0, 10);
    const key: FlightKey = { origin, destination, date, cabin: Math.floor(day / 700) % 2 ? 'premium' : 'economy', number: Math.floor(day / 1400) % 3 };
    offers.push({ offerId: `sandbox:${offerIdFor(key, issuedAt)}`, expectedMinor: flightFor(key).fareMinor, currency: 'EUR' });
  }
  return offers;
}

/** A child process running a script under tsx; resolves with the first line `ready` accepts (default: a JSON line). */
export async function startChild<T>(
  script: string,
  env: NodeJS.ProcessEnv,
  options: { cpus?: string; ready?: (line: string) => T | undefined; /** An IPC channel (child.send, process.on('message')). */ ipc?: boolean } = {},
): Promise<{ child: ChildProcess; ready: T }> {
  const parse = options.ready ?? ((line: string) => (line.startsWith('{') ? (JSON.parse(line) as T) : undefined));
  // BENCH_CHILD_NODE_ARGS='--cpu-prof --cpu-prof-dir=…' profiles the children (NODE_OPTIONS may not carry --cpu-prof).
  const args = [...(process.env.BENCH_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', script];
  const stdio: Array<'ignore' | 'pipe' | 'inherit' | 'ipc'> = ['ignore', 'pipe', 'inherit', ...(options.ipc ? (['ipc'] as const) : [])];
  const child = options.cpus ? spawn('taskset', ['-c', options.cpus, process.execPath, ...args], { env, stdio }) : spawn(process.execPath, args, { env, stdio });
  // However this process ends, the child goes with it.
  exitOnSignal();
  process.once('exit', () => child.kill('SIGTERM'));
  const ready = await new Promise<T>((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const found = buffer.split('\n').map(parse).find((value) => value !== undefined);
      if (found !== undefined) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(found);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
  });
  return { child, ready };
}

/** Stops a child this benchmark started (by its pid), waiting for it to exit. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** user+system CPU seconds a process has used so far, from /proc (Linux). */
export { cpuSeconds as cpuSecondsOf } from './stack-probes.js';

/** This process's CPU seconds (every thread, the Temporal core's included). */
export const selfCpuSeconds = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};

/** The pid of the Temporal dev server, found by its command line (read only: it is shared). */
export function temporalServerPid(): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd.some((part) => part.endsWith('temporal')) && cmd.includes('start-dev')) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** A progress line on stderr (stdout's last line is the summary). */
export const progress = (line: string) => process.stderr.write(`  ${line}\n`);

/** Runs `task` over `items` with at most `concurrency` in flight. */
export async function pool<T>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await task(items[index]!, index);
      }
    }),
  );
}

/** The sandbox provider as its own process (dev/sandbox/server.ts): fresh inventory and holds each time. */
export async function startSandbox(env: NodeJS.ProcessEnv) {
  const { child, ready } = await startChild('dev/sandbox/server.ts', { ...env, SANDBOX_PROVIDER_PORT: '0', API_HOST: '127.0.0.1' }, {
    ready: (line) => /listening on (http:\/\/\S+)/.exec(line)?.[1],
  });
  return { child, url: ready, stop: () => stopChild(child) };
}

let signalsHandled = false;
/** Ctrl-C or a SIGTERM ends this process through exit(), so the children it started are stopped too. */
function exitOnSignal() {
  if (signalsHandled) return;
  signalsHandled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
}


export type TemporalMode = 'file' | 'file-wal' | 'memory' | 'shared';

/**
 * The Temporal dev server the saga benchmarks use: by default their own on free ports, so other
 * people's tests on the shared one neither slow the figures nor get slowed. BENCH_TEMPORAL picks
 * the persistence: `file-wal` (default: --db-filename with WAL and synchronous=normal, durable
 * across a crash of the server process), `file` (--db-filename with SQLite's defaults, as the
 * shared server runs: about half the start rate here), `memory` (no --db-filename), or `shared`
 * (the running 127.0.0.1:7233, which other people's tests load).
 */
export async function startBenchTemporal(): Promise<{ env: NodeJS.ProcessEnv; mode: TemporalMode; describe: string; pid?: number; stop(): Promise<void> }> {
  const mode = (process.env.BENCH_TEMPORAL ?? 'file-wal') as TemporalMode;
  if (mode === 'shared') return { env: {}, mode, describe: 'shared dev server on 127.0.0.1:7233 (--db-filename, SQLite defaults)', pid: temporalServerPid(), stop: async () => undefined };
  const root = process.cwd();
  const dir = mkdtempSync(join(tmpdir(), 'tc-bench-temporal-'));
  const [grpc, http] = await Promise.all([freePort(), freePort()]);
  const address = `127.0.0.1:${grpc}`;
  // The dev server has one history shard, whose transfer queue (which hands every workflow and
  // activity task to matching) polls at most 20 times a second by default: under steady load each
  // step of a saga then waits ~45 ms for it. A cluster spreads workflows over hundreds of shards;
  // here the limit is raised (BENCH_TEMPORAL_DYNAMIC='' keeps the dev server's defaults).
  const dynamicConfig = (process.env.BENCH_TEMPORAL_DYNAMIC ?? 'history.transferProcessorMaxPollRPS=1000 system.enableEagerWorkflowStart=true').split(' ').filter(Boolean);
  const persistence =
    mode === 'memory'
      ? []
      : ['--db-filename', join(dir, 'temporal.db'), ...(mode === 'file-wal' ? ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'] : [])];
  const temporal: Spawned = spawnLogged(
    join(root, '.tools', 'bin', 'temporal'),
    ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(grpc), '--headless', '--http-port', String(http), '--namespace', BENCH_NAMESPACE, '--log-level', 'error', ...persistence, ...dynamicConfig.flatMap((value) => ['--dynamic-config-value', value])],
    { logFile: join(dir, 'temporal.log'), cwd: root },
  );
  const kill = () => temporal.child.kill('SIGKILL');
  exitOnSignal();
  process.once('exit', kill);
  await waitUntilReady(
    'bench temporal',
    async () => {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: BENCH_NAMESPACE });
        return true;
      } finally {
        await connection.close();
      }
    },
    { timeoutMs: 60_000, logFile: join(dir, 'temporal.log'), spawned: temporal, intervalMs: 250 },
  );
  return {
    env: { TEMPORAL_ADDRESS: address },
    mode,
    describe: `own dev server, ${mode === 'memory' ? 'in-memory' : `--db-filename${mode === 'file-wal' ? ' with journal_mode=wal, synchronous=normal' : ' with SQLite defaults'}`}${dynamicConfig.length > 0 ? `; ${dynamicConfig.join(', ')}` : '; default dynamic config'}`,
    pid: temporal.child.pid,
    async stop() {
      process.off('exit', kill);
      await stopService(temporal.child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A Stripe fake (localstripe) of our own with an empty store. It pickles its whole store after
 * every burst of changes, so it slows as PaymentIntents pile up: the saga benchmarks start a
 * fresh one for every run, untimed, so every run meets the same fake.
 */
export async function startStripeFake(): Promise<{ url: string; pid?: number; stop(): Promise<void> }> {
  const root = process.cwd();
  const dir = mkdtempSync(join(tmpdir(), 'tc-bench-stripe-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const stripe: Spawned = spawnLogged(
    join(root, '.tools', 'venv', 'bin', 'python'),
    [join(root, 'dev', 'stripe', 'stripe_fake.py'), '--port', String(port), '--store', join(dir, 'stripe.pickle')],
    { logFile: join(dir, 'stripe.log'), cwd: root },
  );
  const kill = () => stripe.child.kill('SIGKILL');
  exitOnSignal();
  process.once('exit', kill);
  await waitUntilReady('bench localstripe', async () => (await fetch(`${url}/_tc/requests`).catch(() => null))?.status === 200, {
    timeoutMs: 30_000,
    logFile: join(dir, 'stripe.log'),
    spawned: stripe,
    intervalMs: 200,
  });
  return {
    url,
    pid: stripe.child.pid,
    async stop() {
      process.off('exit', kill);
      await stopService(stripe.child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
