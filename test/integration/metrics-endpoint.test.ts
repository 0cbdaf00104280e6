import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';

// SECURITY.md §35: /metrics on the public port cannot be used to exhaust the database pool.
const TOKEN = 'metrics-test-token-0123456789abcdef';
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { METRICS_TOKEN: TOKEN, METRICS_CACHE_MS: '2000' } });
});
afterAll(async () => {
  await stack?.stop();
});

const scrape = (headers: Record<string, string> = {}) => fetch(`${stack.apiUrl}/metrics`, { headers });
const burst = (n: number, headers: (i: number) => Record<string, string>) => Promise.all(Array.from({ length: n }, (_, i) => scrape(headers(i))));

describe('GET /metrics on the public port', () => {
  it('refuses scrapes without the token (401 problem+json) before any booking count query', async () => {
    const before = stack.bookingCountQueries();
    const wrong: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer ' },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}x` },
      { authorization: `Bearer ${TOKEN}extra` },
      { authorization: `Basic ${Buffer.from(`prometheus:${TOKEN}`).toString('base64')}` },
    ];
    const responses = await burst(40, (i) => wrong[i % wrong.length]!);
    for (const response of responses) {
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await response.text()).not.toContain('bookings');
    }
    expect(stack.bookingCountQueries()).toBe(before);
  });

  it('serves 50 concurrent scrapes with the token from one or two count queries, refreshed once the cache is stale', async () => {
    const before = stack.bookingCountQueries();
    const responses = await burst(50, () => ({ authorization: `Bearer ${TOKEN}` }));
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('# TYPE bookings gauge');
    }
    const queries = stack.bookingCountQueries() - before;
    expect(queries).toBeGreaterThanOrEqual(1);
    expect(queries).toBeLessThanOrEqual(2);

    // Past METRICS_CACHE_MS the next scrape reads Postgres again, once.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const stale = stack.bookingCountQueries();
    await burst(10, () => ({ authorization: `Bearer ${TOKEN}` }));
    expect(stack.bookingCountQueries() - stale).toBe(1);
  });
});
