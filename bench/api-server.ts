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
 */
const config = loadConfig(process.env);
const log = createLogger(config, 'api', pino.destination({ dest: '/dev/null', sync: false }));
const variants = (process.env.BENCH_LIMITERS ?? 'on').split(',') as Array<'on' | 'off'>;
const ports: Record<string, number> = {};
const closers: Array<() => Promise<void>> = [];
for (const limiter of variants) {
  const api = await composeApi(config, { log, limiter, taskQueue: process.env.BENCH_TASK_QUEUE });
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: api.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  ports[limiter] = (server.address() as AddressInfo).port;
  closers.push(async () => {
    await new Promise((resolve) => server.close(resolve));
    await api.close();
  });
}
process.stdout.write(`${JSON.stringify({ pid: process.pid, ports })}\n`);
process.on('SIGTERM', () => {
  void Promise.allSettled(closers.map((close) => close())).then(() => process.exit(0));
});
