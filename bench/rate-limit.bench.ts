import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../infra/config.js';
import { benchEnv, cpuSecondsOf, prepareBench, progress, QUICK, startChild, startSandbox, stopChild } from './bench-stack.js';
import { median, report, rotate, roundRatios } from './harness.js';
import { clientIpHeaders, httpLoad, startLoadProcess, type ClientIps, type LoadResult } from './http-load.js';

/**
 * rate-limit: the API alone at its rate limits. A well-behaved population of clients (each
 * address well under the search limit) sends cached GET /api/v1/search/flights open loop at a
 * fixed modest rate (coordinated-omission corrected), measured alone and while a handful of
 * abusive addresses flood the same limited route closed loop, as fast as autocannon goes, from a
 * process of its own (bench/http-load-process.ts), far past their limit. Two more arms, each the
 * flood alone with the same connections: the abusive addresses (nearly all 429) and addresses under
 * the limit (all cached 200), for the API's CPU per 429 against per cached 200. The API child
 * counts what it sends to Postgres, Temporal and Redis (BENCH_BACKEND_COUNTS in api-server.ts).
 */
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? (QUICK ? 2 : 5));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 2 : 3));
/** The well-behaved clients: open loop at this overall rate over these connections. */
const RATE = Number(process.env.BENCH_RATE ?? 200);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
/** The flood: closed loop, as fast as it goes (or open loop at BENCH_FLOOD_RATE), over these connections, from this many addresses. */
const FLOOD_CONNECTIONS = Number(process.env.BENCH_FLOOD_CONNECTIONS ?? 50);
const FLOOD_RATE = process.env.BENCH_FLOOD_RATE ? Number(process.env.BENCH_FLOOD_RATE) : undefined;
const FLOOD_IPS = Number(process.env.BENCH_FLOOD_IPS ?? 8);
/** Under a flood, it runs this long before and after the measured window. */
const FLOOD_LEAD_S = 1;
const QUERY = 'origin=JFK&destination=LHR&departureDate=2027-03-01&adults=1';
// Three disjoint ranges of 10/8 (clientIpHeaders numbers them). Well-behaved: one address per
// request in turn, each seen at most a few times a minute; under the limit: the cached-200 flood
// spread so no address nears the limit; abusive: a handful, each far past it.
const WELL_BEHAVED: ClientIps = { first: 0, count: 20_000 };
const UNDER_LIMIT: ClientIps = { first: 1 << 20, count: 100_000 };
const ABUSIVE: ClientIps = { first: 0xff_0000, count: FLOOD_IPS };

const env = benchEnv();
const config = loadConfig(env);
await prepareBench(config);
const sandbox = await startSandbox(env);
const api = await startChild<{ pid: number; ports: Record<'on', number>; countsPort: number }>('bench/api-server.ts', {
  ...env,
  SANDBOX_PROVIDER_URL: sandbox.url,
  BENCH_LIMITERS: 'on',
  BENCH_BACKEND_COUNTS: '1',
  // Every 200 of the run is a cache hit (the default 60 s would send one request a minute to the sandbox).
  SEARCH_CACHE_TTL_SECONDS: '3600',
});
const url = `http://127.0.0.1:${api.ready.ports.on}/api/v1/search/flights?${QUERY}`;
// The first answer fills the cache (from the sandbox) and names the limit.
const first = await fetch(url);
if (first.status !== 200) throw new Error(`search answered ${first.status}`);
await first.arrayBuffer();
const LIMIT = Number(first.headers.get('ratelimit-limit'));
const WINDOW_S = Number(/;w=(\d+)/.exec(first.headers.get('ratelimit-policy') ?? '')?.[1]);
if (!(LIMIT > 0 && WINDOW_S > 0)) throw new Error(`search answered without RateLimit-Limit/-Policy: ${first.headers.get('ratelimit-policy')}`);

interface Counts {
  postgresQueries: number;
  temporalCalls: number;
  redisCommands: number;
}
const countsNow = async () => (await (await fetch(`http://127.0.0.1:${api.ready.countsPort}/`)).json()) as Counts;
async function counted<T>(run: () => Promise<T>): Promise<T & { backend: Counts }> {
  const before = await countsNow();
  const result = await run();
  const after = await countsNow();
  return {
    ...result,
    backend: { postgresQueries: after.postgresQueries - before.postgresQueries, temporalCalls: after.temporalCalls - before.temporalCalls, redisCommands: after.redisCommands - before.redisCommands },
  };
}

const floodProcess = await startLoadProcess();
const wellBehavedIp = clientIpHeaders(WELL_BEHAVED);
const wellBehaved = () => httpLoad({ url, serverPid: api.ready.pid, connections: CONNECTIONS, durationSeconds: DURATION_S, rate: RATE, perRequest: wellBehavedIp });
const flood = (clientIps: ClientIps, durationSeconds: number) =>
  floodProcess.start({ url, serverPid: api.ready.pid, connections: FLOOD_CONNECTIONS, durationSeconds, rate: FLOOD_RATE, clientIps });

const count = (result: LoadResult, code: number) => result.statusCodes[String(code)] ?? 0;
const describe = (result: LoadResult) => JSON.stringify({ statusCodes: result.statusCodes, errors: result.errors, timeouts: result.timeouts });

function checkWellBehaved(result: LoadResult): LoadResult {
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) throw new Error(`the well-behaved clients got non-2xx answers or errors: ${describe(result)}`);
  return result;
}
/** Past the limit every answer is 429, but for the LIMIT per window each abusive address is allowed. */
function checkAbusive(result: LoadResult, spanSeconds: number): LoadResult {
  const allowedAtMost = FLOOD_IPS * LIMIT * Math.ceil(spanSeconds / WINDOW_S);
  if (result.errors > 0 || result.timeouts > 0 || count(result, 200) + count(result, 429) !== result.requests || count(result, 200) > allowedAtMost) {
    throw new Error(`the flood was not answered 429 past the first ${allowedAtMost}: ${describe(result)}`);
  }
  return result;
}
function checkUnderLimit(result: LoadResult): LoadResult {
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) throw new Error(`the cached-200 flood got non-2xx answers or errors: ${describe(result)}`);
  return result;
}
function checkBackends<T extends { backend: Counts }>(arm: string, result: T): T {
  if (result.backend.postgresQueries > 0 || result.backend.temporalCalls > 0) throw new Error(`${arm}: cached searches and 429s reached Postgres or Temporal: ${JSON.stringify(result.backend)}`);
  return result;
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const us = (seconds: number) => Math.round(seconds * 1e6);
interface Arm {
  wellBehaved?: LoadResult;
  flood?: LoadResult;
  backend: Counts;
}
const arms: Record<'alone' | 'flooded' | 'flood429' | 'flood200', () => Promise<Arm>> = {
  async alone() {
    const result = checkBackends('alone', await counted(async () => ({ wellBehaved: checkWellBehaved(await wellBehaved()) })));
    progress(`alone: ${RATE} rps, p50 ${ms(result.wellBehaved.p50)}, p95 ${ms(result.wellBehaved.p95)}, p99 ${ms(result.wellBehaved.p99)}`);
    return result;
  },
  async flooded() {
    const result = checkBackends(
      'flooded',
      await counted(async () => {
        const span = DURATION_S + 2 * FLOOD_LEAD_S;
        const { done } = await flood(ABUSIVE, span);
        await sleep(FLOOD_LEAD_S * 1000);
        const measured = checkWellBehaved(await wellBehaved());
        return { wellBehaved: measured, flood: checkAbusive(await done, span) };
      }),
    );
    progress(
      `flooded: ${RATE} rps, p50 ${ms(result.wellBehaved.p50)}, p95 ${ms(result.wellBehaved.p95)}, p99 ${ms(result.wellBehaved.p99)}; ` +
        `flood ${Math.round(result.flood.rps)} rps, ${count(result.flood, 429)} × 429, ${count(result.flood, 200)} × 200`,
    );
    return result;
  },
  async flood429() {
    const result = checkBackends('flood429', await counted(async () => ({ flood: checkAbusive(await (await flood(ABUSIVE, DURATION_S)).done, DURATION_S) })));
    progress(`flood of 429s alone: ${Math.round(result.flood.rps)} rps (${count(result.flood, 200)} × 200), ${us(result.flood.cpuSeconds.server / result.flood.requests)} µs API CPU each`);
    return result;
  },
  async flood200() {
    const result = checkBackends('flood200', await counted(async () => ({ flood: checkUnderLimit(await (await flood(UNDER_LIMIT, DURATION_S)).done) })));
    progress(`flood of cached 200s alone: ${Math.round(result.flood.rps)} rps, ${us(result.flood.cpuSeconds.server / result.flood.requests)} µs API CPU each`);
    return result;
  },
};
const runs = await rotate({ rounds: ROUNDS, arms });

const wb = (arm: Arm) => arm.wellBehaved!;
const fl = (arm: Arm) => arm.flood!;
const { ratios, ratio } = roundRatios(runs.alone, runs.flooded, (arm) => wb(arm).p99);
const latency = (list: Arm[]) => ({
  p50Ms: median(list.map((arm) => wb(arm).p50)),
  p95Ms: median(list.map((arm) => wb(arm).p95)),
  p99Ms: median(list.map((arm) => wb(arm).p99)),
});
const alone = latency(runs.alone);
const flooded = latency(runs.flooded);
/** Per answer of a flood arm: the API's CPU, the load generator's, and what reached each backend. */
const perAnswer = (arm: Arm) => ({
  apiCpuMicros: (fl(arm).cpuSeconds.server / fl(arm).requests) * 1e6,
  loadGeneratorCpuMicros: (fl(arm).cpuSeconds.loadGenerator / fl(arm).requests) * 1e6,
  postgresQueries: arm.backend.postgresQueries / fl(arm).requests,
  temporalCalls: arm.backend.temporalCalls / fl(arm).requests,
  redisCommands: arm.backend.redisCommands / fl(arm).requests,
});
const share429 = (arm: Arm) => count(fl(arm), 429) / fl(arm).requests;
const rate429 = (arm: Arm) => fl(arm).rps * share429(arm);
const cpuPer429 = median(runs.flood429.map((arm) => perAnswer(arm).apiCpuMicros));
const cpuPer200 = median(runs.flood200.map((arm) => perAnswer(arm).apiCpuMicros));
const redisPer429 = median(runs.flood429.map((arm) => perAnswer(arm).redisCommands));
const redisPer200 = median(runs.flood200.map((arm) => perAnswer(arm).redisCommands));
const postgresOrTemporal = [...runs.flood429, ...runs.flooded].reduce((sum, arm) => sum + arm.backend.postgresQueries + arm.backend.temporalCalls, 0);
const floodedShare = median(runs.flooded.map(share429));

report(
  'rate-limit',
  `well-behaved clients at ${RATE} rps under a flood from ${FLOOD_IPS} addresses: p50 ${ms(flooded.p50Ms)} p99 ${ms(flooded.p99Ms)} vs alone p50 ${ms(alone.p50Ms)} p99 ${ms(alone.p99Ms)}, all 2xx; ` +
    `flood ${Math.round(median(runs.flooded.map(rate429)))} 429/s (${(floodedShare * 100).toFixed(2)} % 429), alone ${Math.round(median(runs.flood429.map(rate429)))} 429/s vs ${Math.round(median(runs.flood200.map((arm) => fl(arm).rps)))} cached 200/s; ` +
    `API CPU per 429 ${Math.round(cpuPer429)} µs vs per cached 200 ${Math.round(cpuPer200)} µs (${(cpuPer429 / cpuPer200).toFixed(2)}); ` +
    `per 429 ${postgresOrTemporal} Postgres/Temporal calls, ${redisPer429.toFixed(2)} Redis commands (cached 200: ${redisPer200.toFixed(2)})`,
  ratio,
  {
    settings: {
      durationSeconds: DURATION_S,
      rounds: ROUNDS,
      query: QUERY,
      limit: { requests: LIMIT, windowSeconds: WINDOW_S, key: 'search, per client IP (X-Forwarded-For from the trusted loopback proxy)' },
      wellBehaved: { rate: RATE, connections: CONNECTIONS, clientIps: WELL_BEHAVED, openLoop: 'coordinated-omission corrected', process: 'the bench process' },
      flood: { connections: FLOOD_CONNECTIONS, ...(FLOOD_RATE ? { rate: FLOOD_RATE } : { closedLoop: 'as fast as it goes' }), abusiveIps: ABUSIVE, underLimitIps: UNDER_LIMIT, leadAndTailSeconds: FLOOD_LEAD_S, process: 'bench/http-load-process.ts' },
      arms: {
        alone: 'well-behaved clients alone',
        flooded: 'well-behaved clients while the abusive addresses flood (the flood starts 1 s before and ends 1 s after)',
        flood429: 'the abusive flood alone: API CPU per (nearly all) 429',
        flood200: 'the same flood from addresses under the limit: API CPU per cached 200',
      },
      order: 'one warm-up run of each arm, then rounds alone/flooded/flood429/flood200',
      searchCacheTtlSeconds: 3600,
      apiProcess: 'bench/api-server.ts, limiter on, BENCH_BACKEND_COUNTS=1',
      perAnswerNote: 'per-answer CPU and backend counts divide by the answers autocannon counted; the few requests in flight when it stopped (at most one per connection) reached the API uncounted',
      pinned: false,
    },
    goal: 'well-behaved clients all 2xx with p99 <= 25 ms under the flood (the search goal); API CPU per 429 <= per cached 200; no Postgres or Temporal call for a 429',
    ratioIs: 'median over rounds of the well-behaved p99 alone / under the flood (1 = the flood costs them nothing)',
    p99Ratios: ratios,
    wellBehaved: { alone, flooded, meetsGoal: flooded.p99Ms <= 25 },
    flood: {
      underTheMeasuredLoad: runs.flooded.map((arm) => ({ rps: fl(arm).rps, rate429: rate429(arm), share429: share429(arm), statusCodes: fl(arm).statusCodes })),
      alone429: runs.flood429.map((arm) => ({ rps: fl(arm).rps, rate429: rate429(arm), share429: share429(arm), p50Ms: fl(arm).p50, p99Ms: fl(arm).p99 })),
      alone200: runs.flood200.map((arm) => ({ rps: fl(arm).rps, p50Ms: fl(arm).p50, p99Ms: fl(arm).p99 })),
    },
    costPerAnswer: {
      per429: runs.flood429.map(perAnswer),
      perCached200: runs.flood200.map(perAnswer),
      apiCpuMicrosPer429Median: cpuPer429,
      apiCpuMicrosPerCached200Median: cpuPer200,
      cpu429OverCached200: cpuPer429 / cpuPer200,
      postgresOrTemporalCallsDuring429Floods: postgresOrTemporal,
    },
    runs,
    // Whole-run totals (warm-ups and set-up included); each run's share is in its LoadResult.cpuSeconds.
    cpuSeconds: { apiProcess: cpuSecondsOf(api.ready.pid), floodProcess: cpuSecondsOf(floodProcess.pid), sandbox: sandbox.child.pid ? cpuSecondsOf(sandbox.child.pid) : Number.NaN },
  },
);
await floodProcess.stop();
await stopChild(api.child);
await sandbox.stop();
process.exit(0);
