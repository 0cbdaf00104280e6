import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../infra/metrics.js';
import type { RateLimitPolicy, RateLimitResult, SlidingWindowLimiter } from '../../infra/rate-limit/sliding-window.js';
import type { AppEnv } from '../env.js';
import { createApiLimits } from './api-limits.js';
import { onError } from './errors.js';

/** An exact in-memory stand-in for the Redis limiter (its own behaviour is tested against Redis). */
function memoryLimiter(options: { down?: boolean } = {}) {
  const used = new Map<string, number>();
  const keys: string[] = [];
  const answer = (key: string, policy: RateLimitPolicy, cost: number, consume: boolean): RateLimitResult => {
    if (options.down) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    const before = used.get(key) ?? 0;
    const allowed = before + cost <= policy.limit;
    if (allowed && consume) used.set(key, before + cost);
    return { allowed, limit: policy.limit, remaining: policy.limit - (used.get(key) ?? 0), resetMs: policy.windowMs, retryAfterMs: allowed ? 0 : policy.windowMs };
  };
  const limiter: SlidingWindowLimiter = {
    hit: async (key, policy) => (keys.push(key), answer(key, policy, policy.cost ?? 1, true)),
    peek: async (key, policy) => answer(key, policy, 1, false),
    reset: async (key) => void used.delete(key),
  };
  return { limiter, keys };
}

/** The API's limits on the routes app.ts puts them on, before a handler that answers 200. */
function appWith(limiter: SlidingWindowLimiter) {
  const metrics = createMetrics({ countBookingsByStatus: async () => [], cacheMs: 1000 });
  const limits = createApiLimits({ limiter, metrics });
  const app = new Hono<AppEnv>().onError(onError);
  // Who calls, as clientIp and authenticate would set it.
  app.use(async (c, next) => {
    c.set('clientIp', c.req.header('x-test-ip') ?? '203.0.113.9');
    const user = c.req.header('x-test-user');
    if (user) c.set('userId', user);
    await next();
  });
  app.use('/auth/signup', limits.signup);
  app.use('/auth/password-reset/request', limits.passwordReset);
  app.use('/users/me/export', limits.accountExport);
  app.use('/bookings', limits.bookingCreate);
  app.use('/bookings/:id', limits.bookingChange);
  app.use('/search/*', limits.search);
  app.use('/codec/*', limits.codec);
  app.all('*', (c) => c.json({ ok: true }));
  return { app, metrics };
}

const send = (app: Hono<AppEnv>, method: string, path: string, who: { ip?: string; user?: string } = {}) =>
  app.request(path, { method, headers: { ...(who.ip ? { 'x-test-ip': who.ip } : {}), ...(who.user ? { 'x-test-user': who.user } : {}) } });

describe('the API limits (SECURITY.md §10)', () => {
  it('states each policy on every answer', async () => {
    const { app } = appWith(memoryLimiter().limiter);
    const policies: Array<[string, string, string]> = [
      ['POST', '/auth/signup', '10;w=86400'],
      ['POST', '/auth/password-reset/request', '3;w=3600'],
      ['POST', '/bookings', '20;w=86400'],
      ['PATCH', '/bookings/bk-1', '10;w=3600'],
      ['GET', '/search/flights', '100;w=60'],
      ['POST', '/codec/decode', '600;w=60'],
      ['GET', '/users/me/export', '5;w=3600'],
    ];
    for (const [method, path, policy] of policies) {
      const response = await send(app, method, path, { user: 'user-ada' });
      expect(response.headers.get('ratelimit-policy'), path).toBe(policy);
    }
  });

  it('counts sign-ups per address, a whole IPv6 /64 as one, and refuses the eleventh with 429, Retry-After and the metric', async () => {
    const { app, metrics } = appWith(memoryLimiter().limiter);
    for (let i = 0; i < 10; i += 1) expect((await send(app, 'POST', '/auth/signup', { ip: `2001:db8:1:2::${i + 1}` })).status).toBe(200);
    const refused = await send(app, 'POST', '/auth/signup', { ip: '2001:db8:1:2:ffff::9' });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await send(app, 'POST', '/auth/signup', { ip: '2001:db8:1:3::1' })).status).toBe(200);
    expect((await metrics.rateLimited.get()).values).toEqual([expect.objectContaining({ labels: { limit: 'signup' }, value: 1 })]);
  });

  it('counts bookings per traveller and only their writes: reading the list takes nothing', async () => {
    const { limiter, keys } = memoryLimiter();
    const { app } = appWith(limiter);
    await send(app, 'GET', '/bookings', { user: 'user-ada' });
    await send(app, 'GET', '/bookings/bk-1', { user: 'user-ada' });
    expect(keys).toEqual([]);
    await send(app, 'POST', '/bookings', { user: 'user-ada' });
    await send(app, 'PATCH', '/bookings/bk-1', { user: 'user-ada' });
    expect(keys).toEqual(['rl:booking-create:user-ada', 'rl:booking-change:user-ada']);
  });

  it('counts a search by the signed-in traveller, else by the address', async () => {
    const { limiter, keys } = memoryLimiter();
    const { app } = appWith(limiter);
    await send(app, 'GET', '/search/flights', { user: 'user-ada', ip: '198.51.100.7' });
    await send(app, 'GET', '/search/flights', { ip: '198.51.100.7' });
    expect(keys).toEqual(['rl:search:user-ada', 'rl:search:ip:198.51.100.7']);
  });

  it('with the limiter down, refuses what costs money, mail or KMS (503) and keeps reads open', async () => {
    const { app } = appWith(memoryLimiter({ down: true }).limiter);
    for (const [method, path] of [['POST', '/auth/signup'], ['POST', '/auth/password-reset/request'], ['POST', '/bookings'], ['POST', '/bookings/bk-1'], ['POST', '/codec/decode']] as const) {
      const response = await send(app, method, path, { user: 'user-ada' });
      expect(response.status, path).toBe(503);
      expect(((await response.json()) as { code: string }).code).toBe('SERVICE_UNAVAILABLE');
    }
    expect((await send(app, 'GET', '/search/flights')).status).toBe(200);
    expect((await send(app, 'GET', '/users/me/export', { user: 'user-ada' })).status).toBe(200);
  });
});
