import { randomInt, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { Redis } from 'ioredis';
import { redisOptions } from '../infra/redis.js';
import { bookingWorkflowId } from '../domain/booking-ids.js';
import { loadConfig, requireMigrationDatabase } from '../infra/config.js';
import { createOrm, type Orm } from '../infra/db/orm.js';
import { TEST_PASSWORD, mailTo, tokenIn } from '../test/support/http-account.js';
import { json, travellerOver, type ApiRequest } from '../test/support/booking-client.js';
import { commandLine, connectionsTo, cpuSeconds, listeningPid, listeningPorts, parsePrometheus, requestFrom, sampleLabels } from './stack-probes.js';

/**
 * What one CONFIRMED booking costs the development stack that `npm run up` runs (docs/scaling.md):
 * CPU seconds of each process, Postgres transactions and rows, the Temporal server's persistence
 * requests by operation, Redis commands. N travellers' bookings (good card) one after another,
 * each through POST /bookings and one GET of the result, against an idle baseline of the same
 * stack. Read-only towards the stack: it books as a traveller and reads counters.
 *
 *   NODE_ENV=development node --import tsx bench/saga-footprint.ts
 *   FOOTPRINT_BOOKINGS (30), FOOTPRINT_IDLE_S (20), FOOTPRINT_SETTLE_S (12), TEMPORAL_METRICS_URL (found by itself)
 */

const N = Number(process.env.FOOTPRINT_BOOKINGS ?? 30);
const IDLE_S = Number(process.env.FOOTPRINT_IDLE_S ?? 20);
// Postgres flushes a backend's statistics within 10 s of its going idle (PGSTAT_IDLE_INTERVAL).
const SETTLE_S = Number(process.env.FOOTPRINT_SETTLE_S ?? 12);
const BOOKINGS_PER_TRAVELLER = 20; // api/middleware/api-limits.ts: booking-create, 20 a day per user
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const say = (line: string) => process.stderr.write(`  ${line}\n`);

if (process.env.NODE_ENV !== 'development') throw new Error('run with NODE_ENV=development, against the stack `npm run up` started');
const config = loadConfig();
const apiUrl = `http://${config.api.host}:${config.api.port}`;
const portOf = (url: string, fallback: number) => Number(new URL(url).port || fallback);

// The processes, by the ports the development configuration gives them.
const temporalPort = Number(config.temporal.address.split(':')[1]);
const processes = Object.fromEntries(
  Object.entries({
    api: config.api.port,
    worker: config.workerMetrics.port,
    temporal: temporalPort,
    redis: portOf(config.redis.url, 6379),
    stripeFake: portOf(config.stripe.apiUrl, 443),
    sandbox: portOf(config.providers.sandboxUrl, 80),
  }).map(([name, port]) => {
    const pid = listeningPid(port);
    if (pid === undefined) throw new Error(`nothing of ours listens on port ${port} (${name}): is \`npm run up\` running?`);
    return [name, pid];
  }),
) as Record<'api' | 'worker' | 'temporal' | 'redis' | 'stripeFake' | 'sandbox', number>;
for (const [name, pid] of Object.entries(processes)) say(`${name}: pid ${pid} ${commandLine(pid).slice(0, 100)}`);

async function findTemporalMetrics(): Promise<string> {
  if (process.env.TEMPORAL_METRICS_URL) return process.env.TEMPORAL_METRICS_URL;
  // The dev server serves /metrics on a port of its own (--metrics-port, random unless given).
  for (const port of listeningPorts(processes.temporal)) {
    const url = `http://127.0.0.1:${port}/metrics`;
    const text = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then((r) => r.text()).catch(() => '');
    if (text.includes('persistence_requests')) return url;
  }
  throw new Error('the Temporal server serves no persistence_requests on any of its ports; set TEMPORAL_METRICS_URL');
}
const temporalMetricsUrl = await findTemporalMetrics();
say(`temporal metrics: ${temporalMetricsUrl}`);

// Postgres as the owner (the statistics views show every role's work); database-wide counters from
// another database, so this script's own queries do not count.
const database = new URL(config.database.url).pathname.slice(1);
const ownerUrl = (name: string) => Object.assign(new URL(requireMigrationDatabase(config).url), { pathname: `/${name}` }).toString();
const statsOrm: Orm = await createOrm({ url: ownerUrl('postgres'), poolMax: 1 });
const tablesOrm: Orm = await createOrm({ url: ownerUrl(database), poolMax: 1 });

// Redis: MONITOR, counting the commands the API's and the worker's own connections send.
const redisPort = portOf(config.redis.url, 6379);
const monitor = await new Redis({ ...redisOptions(config.redis), keyPrefix: '' }).monitor();
const ours = new Set<string>();
const redisCounts = new Map<string, number>();
monitor.on('monitor', (_time: string, args: string[], source: string) => {
  if (ours.has(source)) redisCounts.set(args[0]!.toUpperCase(), (redisCounts.get(args[0]!.toUpperCase()) ?? 0) + 1);
});
const watchRedisClients = () => {
  for (const address of [...connectionsTo(processes.api, redisPort), ...connectionsTo(processes.worker, redisPort)]) ours.add(address);
};

type Counters = Map<string, number>;
/** Every counter this script reads, as one flat map, so any two can be subtracted. */
async function snapshot(): Promise<{ at: number; counters: Counters }> {
  watchRedisClients();
  const counters: Counters = new Map();
  for (const [name, pid] of Object.entries(processes)) counters.set(`cpu ${name}`, cpuSeconds(pid));
  const [db] = await statsOrm.em.getConnection().execute<Array<Record<string, string>>>(
    `select xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted, tup_fetched from pg_stat_database where datname = ?`, [database]);
  for (const [column, value] of Object.entries(db ?? {})) counters.set(`pg ${column}`, Number(value));
  const backends = await statsOrm.em.getConnection().execute<Array<{ pid: number }>>(`select pid from pg_stat_activity where datname = ?`, [database]);
  for (const { pid } of backends) counters.set(`pgcpu ${pid}`, cpuSeconds(pid));
  const tables = await tablesOrm.em.getConnection().execute<Array<{ relname: string; n_tup_ins: string; n_tup_upd: string }>>(
    'select relname, n_tup_ins, n_tup_upd from pg_stat_user_tables');
  for (const t of tables) {
    counters.set(`table ${t.relname} inserted`, Number(t.n_tup_ins));
    counters.set(`table ${t.relname} updated`, Number(t.n_tup_upd));
  }
  const samples = parsePrometheus(await (await fetch(temporalMetricsUrl)).text());
  for (const [key, value] of samples) {
    const { name, labels } = sampleLabels(key);
    const ns = labels.namespace ?? '-';
    if (name === 'persistence_requests') add(counters, `persistence ${ns} ${labels.operation}`, value);
    else if (name === 'visibility_persistence_requests') add(counters, `visibility - ${labels.operation}`, value);
    else if (name === 'persistence_latency_sum' && ns === config.temporal.namespace) add(counters, `latency-s ${labels.operation}`, value);
    else if (name === 'service_requests' && ns === config.temporal.namespace) add(counters, `rpc ${labels.service_name}`, value);
  }
  for (const [command, count] of redisCounts) counters.set(`redis ${command}`, count);
  return { at: Date.now(), counters };
}
function add(counters: Counters, key: string, value: number) {
  counters.set(key, (counters.get(key) ?? 0) + value);
}

/** b − a per key; a Postgres backend that connected meanwhile counts from zero, one that disconnected is lost (see backendsClosed). */
function delta(a: Counters, b: Counters): Counters {
  const d: Counters = new Map();
  let postgres = 0;
  for (const [key, value] of b) {
    const change = value - (a.get(key) ?? 0);
    if (key.startsWith('pgcpu ')) postgres += Number.isNaN(change) ? 0 : change;
    else d.set(key, change);
  }
  d.set('cpu postgres backends', postgres);
  return d;
}
const backendsClosed = (a: Counters, b: Counters) => [...a.keys()].filter((key) => key.startsWith('pgcpu ') && !b.has(key)).length;

// --- travellers, signed up over HTTP as test/production/production-load.ts signs them up ---------------
const request: ApiRequest = requestFrom(apiUrl, `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`);
async function signUp() {
  const email = `footprint-${randomUUID()}@example.test`;
  const headers = { 'content-type': 'application/json' };
  const signup = await request('/api/v1/auth/signup', { method: 'POST', headers, body: JSON.stringify({ email, password: TEST_PASSWORD, name: 'Ada Lovelace' }) });
  if (signup.status !== 202) throw new Error(`signup answered ${signup.status}: ${await signup.text()}`);
  const token = tokenIn(await mailTo(apiUrl, email, /confirm/i));
  const verified = await request('/api/v1/auth/verify-email', { method: 'POST', headers, body: JSON.stringify({ token, password: TEST_PASSWORD, tokenDelivery: 'body' }) });
  if (verified.status !== 200) throw new Error(`verify-email answered ${verified.status}: ${await verified.text()}`);
  const body = (await verified.json()) as { user: { id: string }; accessToken: string };
  return travellerOver(request, { userId: body.user.id, auth: { authorization: `Bearer ${body.accessToken}` } });
}
const travellers: Array<Awaited<ReturnType<typeof signUp>>> = [];
for (let i = 0; i < Math.ceil(N / BOOKINGS_PER_TRAVELLER); i += 1) travellers.push(await signUp());
say(`${travellers.length} travellers signed up`);

const connection = await Connection.connect({ address: config.temporal.address });
/** One long poll for the close event: no decoding (the payloads are encrypted), no API polling in the figures. */
async function closed(workflowId: string): Promise<void> {
  for (;;) {
    const page = await connection.workflowService.getWorkflowExecutionHistory({
      namespace: config.temporal.namespace,
      execution: { workflowId },
      waitNewEvent: true,
      historyEventFilterType: proto.temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
    });
    if ((page.history?.events?.length ?? 0) > 0) return;
  }
}

// --- phases: searches, idle baseline, bookings ------------------------------------------------------
const s0 = await snapshot();
const orders: Array<{ traveller: (typeof travellers)[number]; body: unknown }> = [];
for (let i = 0; i < N; i += 1) {
  const traveller = travellers[Math.floor(i / BOOKINGS_PER_TRAVELLER)]!;
  orders.push({ traveller, body: await traveller.bookingBody({ paymentMethodId: 'pm_card_visa' }) });
}
const s1 = await snapshot();
await sleep(SETTLE_S * 1000);
const idleStart = await snapshot();
await sleep(IDLE_S * 1000);
const idleEnd = await snapshot();
say(`idle baseline ${IDLE_S} s taken; booking ${N}`);

const latenciesMs: number[] = [];
const outcomes = new Map<string, number>();
for (const { traveller, body } of orders) {
  const key = randomUUID();
  const started = performance.now();
  const response = await traveller.book(body, key);
  if (response.status !== 202) throw new Error(`POST /bookings answered ${response.status}: ${await response.text()}`);
  const { bookingId } = await json(response);
  await closed(bookingWorkflowId(traveller.userId, key));
  latenciesMs.push(performance.now() - started);
  const { status } = await json(await traveller.get(bookingId as string));
  outcomes.set(status as string, (outcomes.get(status as string) ?? 0) + 1);
}
await sleep(SETTLE_S * 1000);
const s2 = await snapshot();

// --- report -------------------------------------------------------------------------------------------
const idle = delta(idleStart.counters, idleEnd.counters);
const idleSeconds = (idleEnd.at - idleStart.at) / 1000;
const confirmed = outcomes.get('CONFIRMED') ?? 0;
/** Per unit of work, net of what the idle stack does in as long a time. */
function perUnit(window: { a: { at: number; counters: Counters }; b: { at: number; counters: Counters } }, units: number) {
  const seconds = (window.b.at - window.a.at) / 1000;
  const d = delta(window.a.counters, window.b.counters);
  return new Map([...d].map(([key, value]) => [key, (value - ((idle.get(key) ?? 0) / idleSeconds) * seconds) / units]));
}
const booking = perUnit({ a: idleEnd, b: s2 }, confirmed);
const search = perUnit({ a: s0, b: s1 }, N);
const sorted = [...latenciesMs].sort((x, y) => x - y);
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(0);

const rows: Array<[string, string, string]> = [];
const row = (label: string, key: string, scale = 1, digits = 2) => {
  const value = booking.get(key) ?? 0;
  const idleRate = (idle.get(key) ?? 0) / idleSeconds;
  if (Math.abs(value) < 0.005 && Math.abs(idleRate) < 0.005) return;
  rows.push([label, (value * scale).toFixed(digits), (idleRate * scale).toFixed(digits)]);
};
for (const name of Object.keys(processes)) row(`CPU ms, ${name}${name === 'redis' ? ' (MONITOR on)' : ''}`, `cpu ${name}`, 1000, 1);
row('CPU ms, Postgres backends of the database', 'cpu postgres backends', 1000, 1);
row('Postgres transactions (commit)', 'pg xact_commit');
row('Postgres transactions (rollback)', 'pg xact_rollback');
row('Postgres rows inserted', 'pg tup_inserted');
row('Postgres rows updated', 'pg tup_updated');
row('Postgres rows deleted', 'pg tup_deleted');
for (const key of [...booking.keys()].filter((k) => k.startsWith('table ')).sort()) row(`  ${key.slice(6)}`, key);
const keysOf = (prefix: string) => [...booking.keys()].filter((k) => k.startsWith(prefix)).sort((x, y) => (booking.get(y) ?? 0) - (booking.get(x) ?? 0));
for (const key of keysOf(`persistence ${config.temporal.namespace} `)) row(`Temporal persistence, ${key.split(' ')[2]}`, key);
for (const key of keysOf('persistence system ')) row(`Temporal persistence (shard queues), ${key.split(' ')[2]}`, key);
for (const key of keysOf('visibility ')) row(`Temporal visibility, ${key.split(' ')[2]}`, key);
for (const key of keysOf('rpc ')) row(`Temporal RPCs handled, ${key.slice(4)}`, key);
for (const key of keysOf('redis ')) row(`Redis commands, ${key.slice(6)}`, key);
const others = [...booking.keys()].filter((k) => k.startsWith('persistence ') && !k.includes(` ${config.temporal.namespace} `) && !k.includes(' system ') && !k.includes(' temporal_system '));
const otherTraffic = others.reduce((sum, k) => sum + (booking.get(k) ?? 0) * confirmed, 0);
const meanLatency = (op: string) => {
  const count = booking.get(`persistence ${config.temporal.namespace} ${op}`) ?? 0;
  return count > 0 ? (((booking.get(`latency-s ${op}`) ?? 0) / count) * 1000).toFixed(1) : '-';
};

const out = [
  `saga-footprint: ${confirmed} of ${N} bookings CONFIRMED (${[...outcomes].map(([s, n]) => `${s} ${n}`).join(', ')}), one at a time, good card`,
  `POST /bookings → workflow closed: p50 ${pct(50)} ms, p95 ${pct(95)} ms, max ${pct(100)} ms; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
  `per CONFIRMED booking (1 POST /bookings, the saga, 1 GET /bookings/{id}; the script's wait is 1 history long poll), net of the idle stack (${idleSeconds.toFixed(0)} s baseline):`,
  '',
  '| figure | per booking | idle stack, per second |',
  '| --- | ---: | ---: |',
  ...rows.map((r) => `| ${r.join(' | ')} |`),
  '',
  `per search (GET /search/flights, cache miss, ${N}): API CPU ${((search.get('cpu api') ?? 0) * 1000).toFixed(2)} ms, sandbox CPU ${((search.get('cpu sandbox') ?? 0) * 1000).toFixed(2)} ms, ` +
    `Redis ${keysOf('redis ').map((k) => `${k.slice(6)} ${(search.get(k) ?? 0).toFixed(2)}`).filter((s) => !s.endsWith(' 0.00')).join(', ')}, Postgres transactions ${(search.get('pg xact_commit') ?? 0).toFixed(2)}`,
  `mean Temporal persistence latency in the window: UpdateWorkflowExecution ${meanLatency('UpdateWorkflowExecution')} ms, CreateWorkflowExecution ${meanLatency('CreateWorkflowExecution')} ms (SQLite, this machine)`,
  `other namespaces' persistence requests on this server during the bookings: ${otherTraffic.toFixed(0)} (0: the Temporal CPU is ours alone); Postgres backends that disconnected meanwhile (their CPU uncounted): ${backendsClosed(idleEnd.counters, s2.counters)}`,
];
process.stdout.write(`${out.join('\n')}\n`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/saga-footprint.json', JSON.stringify({
  at: new Date().toISOString(), bookings: N, outcomes: Object.fromEntries(outcomes), latenciesMs, idleSeconds, loadAverage: loadavg(),
  perBooking: Object.fromEntries(booking), perSearch: Object.fromEntries(search), idlePerSecond: Object.fromEntries([...idle].map(([k, v]) => [k, v / idleSeconds])),
}, null, 2));

monitor.disconnect();
await Promise.all([statsOrm.close(), tablesOrm.close(), connection.close()]);
