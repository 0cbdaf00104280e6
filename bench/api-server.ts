import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { pino } from 'pino';
import { loadConfig } from '../infra/config.js';
import { createLogger } from '../infra/logger.js';
import { composeApi } from './bench-stack.js';

/**
 * The API as a process of its own for the HTTP benchmarks, so the load generator does not share
 * its event loop. BENCH_LIMITERS=on,off serves one app instance per variant, each on its own port,
 * differing only in the rate limiter; the access log is written as production writes it (one JSON
 * line per request), to /dev/null. Prints one JSON line with the ports when ready.
 *
 * BENCH_BACKEND_COUNTS=1 also counts what the app instances send to their backends — Postgres
 * queries (knex's `query` event), Temporal gRPC calls, Redis commands — and serves the running
 * totals as JSON on one more port (`countsPort` in the ready line), for benchmarks that check
 * what a request touches.
 */
const config = loadConfig(process.env);
const log = createLogger(config, 'api', pino.destination({ dest: '/dev/null', sync: false }));
const variants = (process.env.BENCH_LIMITERS ?? 'on').split(',') as Array<'on' | 'off'>;
const ports: Record<string, number> = {};
const closers: Array<() => Promise<void>> = [];
const counting = process.env.BENCH_BACKEND_COUNTS === '1';
const counts = { postgresQueries: 0, temporalCalls: 0, redisCommands: 0 };
function countBackendCalls(api: Awaited<ReturnType<typeof composeApi>>) {
  api.orm.em.getConnection().getKnex().on('query', () => {
    counts.postgresQueries += 1;
  });
  // Every Temporal service call (workflow, operator, health) is one unary request on the
  // connection's gRPC client (a protected member in the SDK's types, a plain property at run time).
  const grpc = (api.temporal.connection as unknown as { client: { makeUnaryRequest: (...args: unknown[]) => unknown } }).client;
  const unary = grpc.makeUnaryRequest.bind(grpc);
  grpc.makeUnaryRequest = (...args) => {
    counts.temporalCalls += 1;
    return unary(...args);
  };
  // Every command, scripts' EVALSHA included, goes through sendCommand.
  const send = api.redis.sendCommand.bind(api.redis);
  api.redis.sendCommand = ((...args: Parameters<typeof send>) => {
    counts.redisCommands += 1;
    return send(...args);
  }) as typeof api.redis.sendCommand;
}
for (const limiter of variants) {
  const api = await composeApi(config, { log, limiter, taskQueue: process.env.BENCH_TASK_QUEUE });
  if (counting) countBackendCalls(api);
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: api.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  ports[limiter] = (server.address() as AddressInfo).port;
  closers.push(async () => {
    await new Promise((resolve) => server.close(resolve));
    await api.close();
  });
}
let countsPort: number | undefined;
if (counting) {
  const countsServer = createServer((_request, response) => response.end(JSON.stringify(counts)));
  await new Promise<void>((resolve) => countsServer.listen(0, '127.0.0.1', resolve));
  countsPort = (countsServer.address() as AddressInfo).port;
  closers.push(() => new Promise((resolve) => countsServer.close(() => resolve())));
}
process.stdout.write(`${JSON.stringify({ pid: process.pid, ports, countsPort })}\n`);
process.on('SIGTERM', () => {
  void Promise.allSettled(closers.map((close) => close())).then(() => process.exit(0));
});
