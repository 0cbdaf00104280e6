import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadConfig } from '../infra/config.js';
import { createRedis, redisReady } from '../infra/redis.js';
import { createSlidingWindowLimiter, SLIDING_WINDOW_SCRIPT } from '../infra/rate-limit/sliding-window.js';
import { benchEnv, cpuSecondsOf, prepareBench, progress, QUICK, startChild, startSandbox, stopChild } from './bench-stack.js';
import { alternate, median, report } from './harness.js';
import { clientIpHeaders, httpLoad, type LoadResult } from './http-load.js';

/**
 * search: a cached GET /api/v1/search/flights through the whole app with the search rate limit
 * on (the sliding-window Lua script in Redis, per client) against the same app with the limiter
 * off (an always-allow limiter: the middleware and its headers stay, the Redis call goes). Both
 * app instances run in one child process, on two ports; autocannon drives them from this one.
 * Then an open-loop run at 50% of the limiter-on peak (coordinated-omission corrected) for the
 * p99 goal, and the limiter script's raw rate with redis-benchmark (EVALSHA) and from Node.
 */
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? (QUICK ? 2 : 5));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 2 : 3));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const QUERY = 'origin=JFK&destination=LHR&departureDate=2027-03-01&adults=1';
// One address per simulated client, cycling through enough of them that none nears 100 a minute.
const CLIENT_IPS = 20_000;

const env = benchEnv();
const config = loadConfig(env);
await prepareBench(config);
const sandbox = await startSandbox(env);
const api = await startChild<{ pid: number; ports: Record<'on' | 'off', number> }>('bench/api-server.ts', {
  ...env,
  SANDBOX_PROVIDER_URL: sandbox.url,
  BENCH_LIMITERS: 'on,off',
});
const urlOf = (variant: 'on' | 'off') => `http://127.0.0.1:${api.ready.ports[variant]}/api/v1/search/flights?${QUERY}`;
for (const variant of ['on', 'off'] as const) {
  // The first answer fills the cache (from the sandbox); every later one is a cache hit.
  const first = await fetch(urlOf(variant));
  if (first.status !== 200) throw new Error(`search answered ${first.status}`);
  await first.arrayBuffer();
}

const clientIp = clientIpHeaders({ count: CLIENT_IPS });
async function load(variant: 'on' | 'off', rate?: number) {
  const result = await httpLoad({ url: urlOf(variant), serverPid: api.ready.pid, connections: CONNECTIONS, durationSeconds: DURATION_S, rate, perRequest: clientIp });
  progress(`limiter ${variant}${rate ? ` at ${rate} rps` : ''}: ${Math.round(result.rps)} rps, p95 ${result.p95} ms, p99 ${result.p99} ms`);
  return result;
}

function checked(result: LoadResult): LoadResult {
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`search load saw ${result.non2xx} non-2xx and ${result.errors} errors: ${JSON.stringify(result.statusCodes)}`);
  return result;
}

const peak = await alternate({
  rounds: ROUNDS,
  baseline: async () => checked(await load('off')),
  subject: async () => checked(await load('on')),
  figure: (r) => r.rps,
});
const peakOn = median(peak.subject.map((r) => r.rps));
const halfRate = Math.round(peakOn / 2);
const fixed = await alternate({
  rounds: ROUNDS,
  baseline: async () => checked(await load('off', halfRate)),
  subject: async () => checked(await load('on', halfRate)),
  figure: (r) => r.p99,
});

// The limiter script on its own: redis-benchmark (C, 50 connections) and the app's own client.
const redisUrl = new URL(config.redis.url);
const raw = createRedis({ url: config.redis.url, keyPrefix: '' });
await redisReady(raw);
const sha = (await raw.script('LOAD', SLIDING_WINDOW_SCRIPT)) as string;
const redisPid = (() => {
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').startsWith('redis-server')) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
})();
function redisBenchmark(pipeline: number) {
  const requests = QUICK ? 30_000 : 200_000;
  const run = spawnSync(
    'redis-benchmark',
    [
      '-h', redisUrl.hostname, '-p', redisUrl.port || '6379', '--dbnum', redisUrl.pathname.slice(1) || '0',
      '-c', String(CONNECTIONS), '-n', String(requests), '-P', String(pipeline), '-r', String(CLIENT_IPS), '--csv',
      'evalsha', sha, '1', `${config.redis.keyPrefix}rl:evalsha-bench:__rand_int__`, '100', '60000', '1', '1',
    ],
    { encoding: 'utf8' },
  );
  if (run.error || run.status !== 0) return { available: false, reason: String(run.error ?? run.stderr) };
  // --csv: a header line, then "<test>","<rps>",... for the one test.
  const row = run.stdout.trim().split('\n').at(-1)!.split(',').map((cell) => cell.replaceAll('"', ''));
  return { available: true, pipeline, requests, rps: Number(row[1]), avgLatencyMs: Number(row[2]), p99LatencyMs: Number(row[6]) };
}
const redisCpuBefore = redisPid ? cpuSecondsOf(redisPid) : Number.NaN;
const evalsha = { pipeline1: redisBenchmark(1), pipeline16: redisBenchmark(16) };
const redisCpuForBenchmark = redisPid ? cpuSecondsOf(redisPid) - redisCpuBefore : Number.NaN;
const limiterRedis = createRedis({ url: config.redis.url, keyPrefix: config.redis.keyPrefix });
await redisReady(limiterRedis);
const limiter = createSlidingWindowLimiter(limiterRedis);
const nodeHits = await (async () => {
  let done = 0;
  const until = performance.now() + DURATION_S * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, lane) => {
      for (let i = 0; performance.now() < until; i += 1) {
        await limiter.hit(`rl:node-bench:${lane}:${i % 400}`, { limit: 100, windowMs: 60_000 });
        done += 1;
      }
    }),
  );
  return done / DURATION_S;
})();
raw.disconnect();
limiterRedis.disconnect();

const last = (list: LoadResult[]) => list.at(-1)!;
const p99AtHalf = median(fixed.subject.map((r) => r.p99));
report(
  'search',
  `limiter on ${Math.round(peakOn)} rps (p95 ${last(peak.subject).p95} ms, p99 ${last(peak.subject).p99} ms) vs off ${Math.round(median(peak.baseline.map((r) => r.rps)))} rps; ` +
    `at ${halfRate} rps p99 ${p99AtHalf} ms (goal <= 25); EVALSHA ${Math.round((evalsha.pipeline1 as { rps?: number }).rps ?? Number.NaN)}/s`,
  peak.ratio,
  {
    settings: {
      connections: CONNECTIONS,
      durationSeconds: DURATION_S,
      rounds: ROUNDS,
      query: QUERY,
      clientIps: CLIENT_IPS,
      limiterOff: 'always-allow limiter (middleware and headers kept, no Redis call)',
      processes: 'both app instances in one child process (bench/api-server.ts); autocannon in the bench process; sandbox provider in its own',
      pinned: false,
    },
    goal: 'limiter on/off >= 0.85; cached p99 <= 25 ms at 50% of peak',
    peak: { on: peak.subject, off: peak.baseline, ratios: peak.ratios },
    halfPeak: { rate: halfRate, on: fixed.subject, off: fixed.baseline, p99OnMedianMs: p99AtHalf, meetsGoal: p99AtHalf <= 25 },
    evalsha: { ...evalsha, redisCpuSeconds: redisCpuForBenchmark, fromNodeLimiterHitsPerSecond: nodeHits },
    cpuSeconds: { apiProcess: cpuSecondsOf(api.ready.pid) },
  },
);
await stopChild(api.child);
await sandbox.stop();
process.exit(0);
