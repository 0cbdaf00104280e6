import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadDevConfigOrExit } from './config.js';
import { migrateDatabase } from '../infra/db/roles.js';
import { ensureServices, SERVICE_NAMES } from './services.js';
import { portAnswers, stopChild } from './process.js';
import { cliTlsFlags, startDevCluster } from './cluster/dev-cluster.js';

/**
 * `npm run up`: every local service (reused when already running), migrations as the owner, then
 * the API and the worker (as travelconnect_app) in the foreground until Ctrl-C, which stops only
 * what this started. `npm run up -- --cluster` runs a Temporal cluster (separate frontend, history,
 * matching and worker processes on Postgres, mTLS) instead of the dev server.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const config = loadDevConfigOrExit();
const say = (line: string) => process.stdout.write(`[up] ${line}\n`);
const children: ChildProcess[] = [];
let stopping = false;
const clusterMode = process.argv.includes('--cluster');

const services = ensureServices(config, {
  root,
  log: say,
  ...(clusterMode ? { only: SERVICE_NAMES.filter((name) => name !== 'temporal') } : {}),
});
// Started once Postgres is up; its settings reach the API and the worker through their environment.
let cluster: Awaited<ReturnType<typeof startDevCluster>> | undefined;

async function shutdown(exitCode: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('stopping the API, the worker and the services this command started');
    await Promise.all(children.map((child) => stopChild(child, 10_000)));
    await cluster?.cluster.stop();
    // ensureServices stops what it started itself when it fails, so only success needs undoing.
    await (await services.catch(() => undefined))?.stopAll();
    say('stopped');
    process.exit(exitCode);
  }
  return new Promise<never>(() => {}); // the first shutdown exits the process
}

// Handled from the first moment, so a Ctrl-C while services start still stops them;
// `on`, not `once`, because Ctrl-C arrives from the terminal and again from npm.
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

function start(name: string, entry: string): void {
  if (stopping) return;
  // The mode this launcher was given (`npm run up` says development unless the caller chose), passed on explicitly.
  const env = { ...process.env, ...cluster?.env, NODE_ENV: config.nodeEnv };
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: root, stdio: 'inherit', env });
  child.once('exit', (code, signal) => {
    if (stopping) return;
    say(`${name} exited (code ${code ?? '-'}, signal ${signal ?? '-'}); stopping`);
    void shutdown(1);
  });
  children.push(child);
}

await services;
if (clusterMode) {
  try {
    cluster = await startDevCluster(config, root, say);
  } catch (error) {
    say(`the Temporal cluster did not start: ${(error as Error).message}`);
    await shutdown(1);
  }
}
// As the owner; the API and the worker then connect as the application role (DATABASE_URL).
await migrateDatabase(config);
say('migrations applied');

// The web client the API serves at / (web/dist); a failed build leaves the API up without pages.
say('building the web client (web/dist)');
const built = await new Promise<boolean>((resolve) => {
  const vite = spawn(process.execPath, [`${root}node_modules/vite/bin/vite.js`, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  vite.once('exit', (code) => resolve(code === 0));
});
if (!built) say('note: the web client did not build; the API serves no pages');

start('worker', 'workers/booking.worker.ts');
start('api', 'api/server.ts');

const deadline = Date.now() + 60_000;
while (!stopping && !(await portAnswers(config.api.host, config.api.port))) {
  if (Date.now() > deadline) {
    say(`the API did not answer on ${config.api.host}:${config.api.port} within 60 s`);
    await shutdown(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 250));
}
if (!stopping) {
  const api = `http://${config.api.host}:${config.api.port}`;
  // localstripe delivers webhooks only to endpoints registered with it (it forgets them on restart).
  const registered = await fetch(`${config.stripe.apiUrl}/_config/webhooks/travelconnect-dev`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${api}/api/v1/webhooks/stripe`, secret: config.stripe.webhookSecret }),
  }).catch(() => undefined);
  if (!registered?.ok) say('note: could not register the webhook endpoint with the Stripe fake');
  say('TravelConnect is up. Ctrl-C stops what this command started.');
  say(`  Web app      ${api}/  (sign up, search, book and pay; mail: ${api}/api/v1/dev/outbox?to=<address>)`);
  say(`  API          ${api}/api/v1  (health: ${api}/healthz, readiness: ${api}/readyz)`);
  say(`  API docs     ${api}/docs  (OpenAPI: ${api}/openapi.json)`);
  if (cluster) {
    say(`  Temporal     ${cluster.cluster.address} (mTLS; ${cluster.cluster.processes.map((p) => p.name).join(', ')}; logs in .data/temporal-cluster/logs)`);
    say(`  Temporal CLI .tools/bin/temporal workflow list ${cliTlsFlags(cluster.cluster, cluster.operator).join(' ')}`);
  } else say(`  Temporal UI  ${config.temporal.uiUrl}`);
  say(`  Sandbox      ${config.providers.sandboxUrl}`);
  say(`  Hotels       ${config.providers.hotelUrl}`);
  say(`  Try          curl '${api}/api/v1/search/flights?origin=JFK&destination=LHR&departureDate=2027-01-10'`);
}
