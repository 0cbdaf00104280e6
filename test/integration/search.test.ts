import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { createFlightProvider } from '../../infra/providers/flights.adapter.js';
import { createSandboxApp } from '../../dev/sandbox/sandbox.app.js';
import { startStack, type Stack } from '../support/stack.js';
import { json } from '../support/booking-client.js';

let stack: Stack;
let slowServer: ServerType;
let slowUrl: string;
const DEADLINE_MS = 800;
const SLOW_PROVIDER_LATENCY_MS = 5_000;

beforeAll(async () => {
  stack = await startStack({ env: { SEARCH_DEADLINE_MS: String(DEADLINE_MS) } });
  // A second provider that answers long after the deadline.
  slowServer = await new Promise<ServerType>((resolve) => {
    const server = serve(
      { fetch: createSandboxApp({ offerTtlMs: 60_000, holdTtlMs: 60_000, faults: { latencyMs: SLOW_PROVIDER_LATENCY_MS } }).fetch, hostname: '127.0.0.1', port: 0 },
      () => resolve(server),
    );
  });
  slowUrl = `http://127.0.0.1:${(slowServer.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await stack?.stop();
  (slowServer as Server | undefined)?.closeAllConnections(); // its hanging requests would hold close() open
  await new Promise((resolve) => slowServer?.close(resolve));
});

const requestsTo = async (url: string) => ((await (await fetch(`${url}/_control/stats`)).json()) as { requests: number }).requests;

describe('flight search', () => {
  it('answers within the deadline with the fast provider’s offers, marks the answer partial, and caches complete answers', async () => {
    const providers = new Map([
      ['sandbox', createFlightProvider({ baseUrl: stack.sandboxUrl, timeoutMs: 10_000 })],
      ['slowpoke', createFlightProvider({ baseUrl: slowUrl, timeoutMs: 10_000, name: 'slowpoke' })],
    ]);
    const app = createApp({
      config: stack.config,
      log: pino({ level: 'silent' }),
      orm: stack.orm,
      temporal: stack.temporal,
      providers,
      cipher: { encrypt: async () => '', decrypt: async () => '', forget: () => {} },
      stripe: stack.stripe,
      redis: stack.redis,
      metrics: stack.metrics,
    });
    const query = '/api/v1/search/flights?origin=CDG&destination=JFK&departureDate=2027-06-01';
    const started = performance.now();
    const response = await app.request(query);
    const elapsed = performance.now() - started;
    const answer = await json(response);
    expect(response.status).toBe(200);
    expect(answer.partial).toBe(true);
    expect(answer.failedProviders).toEqual(['slowpoke']);
    expect(answer.offers.length).toBeGreaterThan(0);
    expect(answer.offers.every((o: { provider: string }) => o.provider === 'sandbox')).toBe(true);
    expect(elapsed).toBeLessThan(SLOW_PROVIDER_LATENCY_MS); // it did not wait for the slow provider
    // A partial answer is not cached: the next search asks the slow provider again.
    expect((await app.request(query)).headers.get('x-cache')).toBe('MISS');
  });

  it('serves a repeated identical search from the cache without calling the provider again', async () => {
    const query = '/api/v1/search/flights?origin=LHR&destination=SFO&departureDate=2027-07-04&cabin=business';
    const first = await stack.app.request(query);
    expect(first.headers.get('x-cache')).toBe('MISS');
    const calls = await requestsTo(stack.sandboxUrl);
    // The same query written differently (parameter order, default spelled out) is the same search.
    const second = await stack.app.request('/api/v1/search/flights?cabin=business&adults=1&departureDate=2027-07-04&destination=SFO&origin=LHR');
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(await json(second)).toEqual(await json(first));
    expect(await requestsTo(stack.sandboxUrl)).toBe(calls);
  });
});
