import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { securityHeaders } from '../api/middleware/security-headers.js';
import { createRouter } from '../api/openapi.js';
import { limitBody, requireJson } from '../api/middleware/body.js';
import { notFound, onError } from '../api/middleware/errors.js';
import { requestId } from '../api/middleware/request-id.js';
import { alternate, QUICK, report } from './harness.js';

/**
 * http-floor: a JSON route through our full middleware stack (request id with its access log,
 * security headers, body limit, content type, error funnel) against bare node:http serving the
 * same JSON. Same process, alternating runs.
 */
const BODY = { status: 'ok', service: 'travelconnect' };
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? (QUICK ? 3 : 5));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 2 : 3));

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/ping`)));
}

const bare = createServer((_req, res) => {
  const json = JSON.stringify(BODY);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
});

const app = createRouter();
// The production middleware, with the access log written where production writes it (stdout), muted to a sink here.
app.use(requestId({ log: pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false })) }));
app.use(securityHeaders());
app.use(limitBody());
app.use(requireJson());
app.onError(onError);
app.notFound(notFound(() => app.routes));
app.get('/ping', (c) => c.json(BODY));
const ours = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
await new Promise((resolve) => ours.once('listening', resolve));

const bareUrl = await listen(bare);
const oursUrl = `http://127.0.0.1:${(ours.address() as AddressInfo).port}/ping`;
const load = (url: string) => autocannon({ url, connections: 50, duration: DURATION_S, pipelining: 1 });

const result = await alternate({
  rounds: ROUNDS,
  baseline: () => load(bareUrl),
  subject: () => load(oursUrl),
  figure: (r) => r.requests.average,
});
const p99 = (r: autocannon.Result) => r.latency.p99;
report(
  'http-floor',
  `ours ${Math.round(result.subject.at(-1)!.requests.average)} rps (p99 ${p99(result.subject.at(-1)!)} ms) vs bare ${Math.round(result.baseline.at(-1)!.requests.average)} rps (p99 ${p99(result.baseline.at(-1)!)} ms)`,
  result.ratio,
  {
    settings: { connections: 50, durationSeconds: DURATION_S, rounds: ROUNDS, sameProcess: true },
    goal: '>= 0.80 of bare',
    rps: { ours: result.subject.map((r) => r.requests.average), bare: result.baseline.map((r) => r.requests.average) },
    p99Ms: { ours: result.subject.map(p99), bare: result.baseline.map(p99) },
    ratios: result.ratios,
  },
);
bare.close();
ours.close();
