import { createServer, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import autocannon from 'autocannon';
import type { MiddlewareHandler } from 'hono';
import { pino } from 'pino';
import { limitBody, requireJson } from '../api/middleware/body.js';
import { notFound, onError } from '../api/middleware/errors.js';
import { requestId } from '../api/middleware/request-id.js';
import { SECURITY_HEADERS, securityHeaders } from '../api/middleware/security-headers.js';
import { createRouter } from '../api/openapi.js';
import { median, rotate } from './harness.js';

/**
 * The http-floor profile, one layer at a time: bare node:http, Hono alone, Hono with each of our
 * middlewares alone, the whole stack. Every arm in one process, in rotation (A/B/C/…), each as a
 * ratio of the same round's bare node:http. Not part of `npm run bench`:
 * `node --import tsx bench/http-floor-layers.ts` (BENCH_DURATION_S, BENCH_ROUNDS).
 */
const BODY = { status: 'ok', service: 'travelconnect' };
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const sink = () => pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));

// Candidates measured beside the middleware as it is.
const headersOnNode = (): MiddlewareHandler => async (c, next) => {
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    if (outgoing) outgoing.setHeader(name, value);
    else c.header(name, value);
  }
  await next();
};
const logWithoutChild = (): MiddlewareHandler => {
  const log = sink();
  return async (c, next) => {
    const id = crypto.randomUUID();
    const started = performance.now();
    await next();
    log.info({ requestId: id, method: c.req.method, route: c.req.routePath, status: c.res.status, ms: Math.round(performance.now() - started) }, 'request');
  };
};
const idOnNode = (): MiddlewareHandler => {
  const log = sink();
  return async (c, next) => {
    const id = crypto.randomUUID();
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    if (outgoing) outgoing.setHeader('X-Request-Id', id);
    else c.header('X-Request-Id', id);
    const started = performance.now();
    await next();
    log.info({ requestId: id, method: c.req.method, route: c.req.routePath, status: c.res.status, ms: Math.round(performance.now() - started) }, 'request');
  };
};
const noLog = (): MiddlewareHandler => async (c, next) => {
  c.header('X-Request-Id', crypto.randomUUID());
  await next();
};

async function hono(layers: MiddlewareHandler[]): Promise<string> {
  const app = createRouter();
  for (const layer of layers) app.use(layer);
  app.onError(onError);
  app.notFound(notFound(() => app.routes));
  app.get('/ping', (c) => c.json(BODY));
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
  await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping`;
}
const bare = createServer((_req, res) => {
  const json = JSON.stringify(BODY);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
});
const bareUrl = await new Promise<string>((resolve) => bare.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(bare.address() as AddressInfo).port}/ping`)));

const urls = {
  bare: bareUrl,
  hono: await hono([]),
  requestIdAndLog: await hono([requestId({ log: sink() })]),
  requestIdNoLog: await hono([noLog()]),
  logWithoutChild: await hono([logWithoutChild()]),
  securityHeaders: await hono([securityHeaders()]),
  headersOnNode: await hono([headersOnNode()]),
  bodyAndJson: await hono([limitBody(), requireJson()]),
  full: await hono([requestId({ log: sink() }), securityHeaders(), limitBody(), requireJson()]),
  fullOnNode: await hono([idOnNode(), headersOnNode(), limitBody(), requireJson()]),
};
type Arm = keyof typeof urls;
const load = (url: string) => autocannon({ url, connections: 50, duration: DURATION_S, pipelining: 1 }).then((r) => r.requests.average);
const results = await rotate({ rounds: ROUNDS, arms: Object.fromEntries(Object.entries(urls).map(([arm, url]) => [arm, () => load(url)])) as Record<Arm, () => Promise<number>> });
for (const arm of Object.keys(urls) as Arm[]) {
  const ratios = results[arm].map((rps, i) => rps / results.bare[i]!);
  process.stdout.write(`${arm.padEnd(16)} ${Math.round(median(results[arm]))} rps  ratio to bare ${median(ratios).toFixed(2)}  (${ratios.map((r) => r.toFixed(2)).join(', ')})\n`);
}
process.exit(0);
