import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../infra/config.js';
import { createSlidingWindowLimiter, type SlidingWindowLimiter } from '../../infra/rate-limit/sliding-window.js';
import { createRedis } from '../../infra/redis.js';
import type { AppEnv } from '../env.js';
import { ApiError } from '../problem.js';
import { onError } from './errors.js';
import { rateLimit } from './rate-limit.js';

const prefix = `test:${randomBytes(6).toString('hex')}:`;
const redis = createRedis({ url: loadConfig({ ...process.env, NODE_ENV: 'test' }).redis.url, keyPrefix: prefix });
// Nothing listens on port 1: every command fails at once, as with Redis down.
const deadRedis = createRedis({ url: 'redis://127.0.0.1:1/0', keyPrefix: prefix });
const limiter = createSlidingWindowLimiter(redis);
const deadLimiter = createSlidingWindowLimiter(deadRedis);

beforeAll(() => (redis.status === 'ready' ? undefined : once(redis, 'ready')));
afterAll(() => {
  redis.disconnect();
  deadRedis.disconnect();
});

function appWith(options: { limiter?: SlidingWindowLimiter; failClosed?: boolean; rejected?: string[] } = {}) {
  const name = `t${randomBytes(4).toString('hex')}`;
  const app = new Hono<AppEnv>();
  app.onError(onError);
  app.use(
    rateLimit({
      limiter: options.limiter ?? limiter,
      name,
      limit: 2,
      windowMs: 60_000,
      key: (c) => c.req.header('x-user'),
      onReject: (n) => options.rejected?.push(n),
      failClosed: options.failClosed,
    }),
  );
  app.get('/', (c) => c.text('ok'));
  app.get('/missing', () => {
    throw new ApiError('NOT_FOUND');
  });
  return { app, name };
}
const as = (user: string) => ({ headers: { 'x-user': user } });

describe('rateLimit middleware (real Redis)', () => {
  it('sets the RateLimit headers, then answers 429 problem+json with Retry-After', async () => {
    const rejected: string[] = [];
    const { app, name } = appWith({ rejected });
    const first = await app.request('/', as('alice'));
    expect(first.status).toBe(200);
    expect(first.headers.get('RateLimit-Limit')).toBe('2');
    expect(first.headers.get('RateLimit-Remaining')).toBe('1');
    expect(Number(first.headers.get('RateLimit-Reset'))).toBeGreaterThanOrEqual(1);
    expect(Number(first.headers.get('RateLimit-Reset'))).toBeLessThanOrEqual(60);
    expect(first.headers.get('RateLimit-Policy')).toBe('2;w=60');
    expect((await app.request('/', as('alice'))).headers.get('RateLimit-Remaining')).toBe('0');
    expect(rejected).toEqual([]);

    const refused = await app.request('/', as('alice'));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('Content-Type')).toBe('application/problem+json');
    expect(await refused.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    const retryAfter = Number(refused.headers.get('Retry-After'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('RateLimit-Remaining')).toBe('0');
    expect(refused.headers.get('RateLimit-Policy')).toBe('2;w=60');
    expect(rejected).toEqual([name]);
    expect(await redis.exists(`rl:${name}:alice`)).toBe(1);
  });

  it('counts each key apart, and lets keyless requests through uncounted', async () => {
    const { app } = appWith();
    for (let i = 0; i < 2; i++) await app.request('/', as('bob'));
    expect((await app.request('/', as('bob'))).status).toBe(429);
    expect((await app.request('/', as('carol'))).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const keyless = await app.request('/');
      expect(keyless.status).toBe(200);
      expect(keyless.headers.get('RateLimit-Limit')).toBeNull();
    }
  });

  it("leaves the handler's own errors alone", async () => {
    const { app } = appWith({ failClosed: true });
    expect((await app.request('/missing', as('dave'))).status).toBe(404);
  });

  it('fails open by default with Redis down, and with failClosed answers 503', async () => {
    const open = await appWith({ limiter: deadLimiter }).app.request('/', as('erin'));
    expect(open.status).toBe(200);
    expect(open.headers.get('RateLimit-Limit')).toBeNull();
    const closed = await appWith({ limiter: deadLimiter, failClosed: true }).app.request('/', as('erin'));
    expect(closed.status).toBe(503);
    expect(await closed.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });
});

describe('rateLimit options', () => {
  it('refuses a limit that could never work when the middleware is built, not per request', () => {
    const base = { limiter, name: 'bad', key: () => 'k' };
    expect(() => rateLimit({ ...base, limit: 0, windowMs: 1_000 })).toThrow(RangeError);
    expect(() => rateLimit({ ...base, limit: 2, windowMs: 1.5 })).toThrow(RangeError);
    expect(() => rateLimit({ ...base, limit: 2, windowMs: 1_000, cost: 3 })).toThrow(RangeError);
  });
});
