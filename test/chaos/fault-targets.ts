import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { freePort, rawExchange, run, spawnLogged, stopChild, waitUntilReady, type Spawned } from '../../dev/process.js';
import { ensureSearchAttributes } from '../../infra/temporal/search-attributes.js';
import { TEST_NAMESPACE } from '../support/namespace.js';

/**
 * The servers the chaos suite kills: its own Temporal dev server, Redis and Stripe fake, on free
 * ports with their state in the suite's temporary directory. The shared ones (7233, 6379, 8420)
 * serve everybody else's tests and are never touched.
 */


/**
 * Runs `kill` (synchronous) if the test process ends without its afterAll: on exit, or on SIGINT or
 * SIGTERM, which end a process without an 'exit' event. A frozen server would otherwise outlive us.
 * Returns the function that unregisters it.
 */
export function killOnExit(kill: () => void): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    kill();
    process.kill(process.pid, signal); // our handler is gone now: the signal does what it would have done
  };
  process.once('exit', kill);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('exit', kill);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** How many requests the suite's Stripe fake keeps in its log: a 1,000-booking run makes about 15,000. */
export const STRIPE_REQUESTS_LOGGED = 200_000;

/** One server process of ours: started, killed and started again on the same port and state. */
export interface OwnedServer {
  readonly name: string;
  readonly address: string;
  start(): Promise<void>;
  /** SIGKILL is a crash; SIGTERM a clean stop. Resolves once the process has exited. */
  stop(signal: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** SIGSTOP freezes the process: it keeps its port but answers nothing until SIGCONT. */
  signal(signal: 'SIGSTOP' | 'SIGCONT' | 'SIGKILL'): void;
  readonly running: boolean;
}

function ownedServer(spec: {
  name: string;
  address: string;
  root: string;
  logDir: string;
  command: string;
  args: string[];
  ready: () => Promise<boolean>;
  timeoutMs: number;
}): OwnedServer {
  const logFile = join(spec.logDir, `${spec.name}.log`);
  let spawned: Spawned | undefined;
  const alive = () => spawned !== undefined && spawned.exited === null;
  return {
    name: spec.name,
    address: spec.address,
    get running() {
      return alive();
    },
    async start() {
      if (alive()) return;
      spawned = spawnLogged(spec.command, spec.args, { logFile, cwd: spec.root });
      await waitUntilReady(spec.name, spec.ready, { timeoutMs: spec.timeoutMs, logFile, spawned, intervalMs: 100 });
    },
    async stop(signal) {
      if (!spawned || !alive()) return;
      const { child } = spawned;
      // A frozen process handles nothing, SIGTERM included.
      child.kill('SIGCONT');
      if (signal === 'SIGTERM') return stopChild(child, 10_000);
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    },
    signal(signal) {
      if (spawned && alive()) spawned.child.kill(signal);
    },
  };
}

export interface FaultTargets {
  temporal: OwnedServer;
  redis: OwnedServer;
  stripe: OwnedServer;
  /** What startStack needs to use them instead of the shared services. */
  env: NodeJS.ProcessEnv;
  stopAll(): Promise<void>;
}

/** Starts the suite's own Temporal, Redis and Stripe fake; state lives under `dir`. */
export async function startFaultTargets(root: string, dir: string): Promise<FaultTargets> {
  const [grpc, http, metrics, redisPort, stripePort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const temporalAddress = `127.0.0.1:${grpc}`;
  const cli = join(root, '.tools', 'bin', 'temporal');
  const temporal = ownedServer({
    name: 'temporal',
    address: temporalAddress,
    root,
    logDir: dir,
    command: cli,
    args: [
      'server', 'start-dev', '--ip', '127.0.0.1', '--port', String(grpc), '--headless', '--http-port', String(http),
      '--metrics-port', String(metrics), '--db-filename', join(dir, 'chaos-temporal.db'), '--namespace', TEST_NAMESPACE,
      '--log-level', 'error',
      // No fsync: a killed process loses nothing the OS has (only a machine crash would), and
      // on a small VM fsync made persistence, not the saga, the bottleneck.
      '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=off',
    ],
    // The gRPC port opens before the namespace is registered.
    ready: async () =>
      (await run(cli, ['operator', 'namespace', 'describe', '--namespace', TEST_NAMESPACE, '--address', temporalAddress], { timeoutMs: 5_000 }))
        .code === 0,
    timeoutMs: 60_000,
  });
  const redis = ownedServer({
    name: 'redis',
    address: `redis://127.0.0.1:${redisPort}/0`,
    root,
    logDir: dir,
    command: 'redis-server',
    args: ['--bind', '127.0.0.1', '--port', String(redisPort), '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'],
    ready: async () => (await rawExchange('127.0.0.1', redisPort, 'PING\r\n')).startsWith('+PONG'),
    timeoutMs: 10_000,
  });
  const stripeUrl = `http://127.0.0.1:${stripePort}`;
  const stripe = ownedServer({
    name: 'stripe',
    address: stripeUrl,
    root,
    logDir: dir,
    command: join(root, '.tools', 'venv', 'bin', 'python'),
    // --store: a restarted fake keeps its PaymentIntents.
    // Every request of a large batch stays in the log, so the checks can count each capture.
    args: [join(root, 'dev', 'stripe', 'stripe_fake.py'), '--port', String(stripePort), '--store', join(dir, 'stripe.pickle'), '--log-requests', String(STRIPE_REQUESTS_LOGGED)],
    ready: async () => (await fetch(`${stripeUrl}/_tc/requests`).catch(() => null))?.status === 200,
    timeoutMs: 30_000,
  });

  const all = [temporal, redis, stripe];
  const unregister = killOnExit(() => all.forEach((server) => server.signal('SIGKILL')));
  const stopAll = async () => {
    unregister();
    await Promise.all(all.map((server) => server.stop('SIGKILL')));
  };
  try {
    await Promise.all(all.map((server) => server.start()));
    const connection = await Connection.connect({ address: temporalAddress });
    try {
      await ensureSearchAttributes(connection, TEST_NAMESPACE);
    } finally {
      await connection.close();
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    temporal,
    redis,
    stripe,
    env: { TEMPORAL_ADDRESS: temporalAddress, REDIS_URL: redis.address, STRIPE_API_URL: stripeUrl },
    stopAll,
  };
}
