import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test/support/eventually.js';
import { loadConfig } from '../config.js';
import { createRedis } from '../redis.js';
import { createSlidingWindowLimiter } from './sliding-window.js';

const redis = createRedis({ url: loadConfig({ ...process.env, NODE_ENV: 'test' }).redis.url, keyPrefix: `test:${randomBytes(6).toString('hex')}:` });
const limiter = createSlidingWindowLimiter(redis);
const key = () => `k:${randomBytes(6).toString('hex')}`;
const MINUTE = { limit: 3, windowMs: 60_000 };

// Without an offline queue, commands sent before the connection is up fail.
beforeAll(() => (redis.status === 'ready' ? undefined : once(redis, 'ready')));
afterAll(() => redis.disconnect());

describe('sliding-window limiter (real Redis)', () => {
  it('allows exactly `limit` hits, then refuses with a retry time within the window', async () => {
    const k = key();
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await limiter.hit(k, MINUTE));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
    expect(results[0]).toMatchObject({ limit: 3, retryAfterMs: 0 });
    const refused = results[3]!;
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(refused.resetMs).toBeGreaterThanOrEqual(refused.retryAfterMs);
    for (let i = 0; i < 5; i++) await limiter.hit(k, MINUTE);
    expect(await redis.zcard(k)).toBe(3); // refused hits left no trace
  });

  it('does not count refused hits, and allows again once the window slides', async () => {
    const k = key();
    const policy = { limit: 2, windowMs: 1_000 };
    expect((await limiter.hit(k, policy)).allowed).toBe(true);
    expect((await limiter.hit(k, policy)).allowed).toBe(true);
    // Hammering while refused must not push recovery further away.
    for (let i = 0; i < 20; i++) expect((await limiter.hit(k, policy)).allowed).toBe(false);
    const again = await eventually(() => limiter.hit(k, policy), (r) => r.allowed, { timeoutMs: 5_000, intervalMs: 50, what: 'the window to slide' });
    expect(again.remaining).toBe(1);
  });

  it('lets exactly `limit` of 50 concurrent hits through', async () => {
    const k = key();
    const results = await Promise.all(Array.from({ length: 50 }, () => limiter.hit(k, { limit: 10, windowMs: 60_000 })));
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    expect(await redis.zcard(k)).toBe(10);
  });

  it('peek reports without consuming', async () => {
    const k = key();
    expect(await limiter.peek(k, MINUTE)).toEqual({ allowed: true, limit: 3, remaining: 3, resetMs: 0, retryAfterMs: 0 });
    for (let i = 0; i < 5; i++) await limiter.peek(k, MINUTE);
    await limiter.hit(k, MINUTE);
    expect(await limiter.peek(k, MINUTE)).toMatchObject({ allowed: true, remaining: 2 });
    await limiter.hit(k, { ...MINUTE, cost: 2 });
    const full = await limiter.peek(k, MINUTE);
    expect(full).toMatchObject({ allowed: false, remaining: 0 });
    expect(full.retryAfterMs).toBeGreaterThan(0);
  });

  it('counts cost units and refuses a cost that does not fit, without taking any', async () => {
    const k = key();
    expect(await limiter.hit(k, { limit: 5, windowMs: 60_000, cost: 4 })).toMatchObject({ allowed: true, remaining: 1 });
    expect(await limiter.hit(k, { limit: 5, windowMs: 60_000, cost: 2 })).toMatchObject({ allowed: false, remaining: 1 });
    expect(await limiter.hit(k, { limit: 5, windowMs: 60_000 })).toMatchObject({ allowed: true, remaining: 0 });
    await expect(limiter.hit(k, { limit: 5, windowMs: 60_000, cost: 6 })).rejects.toThrow(RangeError);
    await expect(limiter.hit(k, { limit: 0, windowMs: 60_000 })).rejects.toThrow(RangeError);
  });

  it('keeps keys independent, and reset forgets one key only', async () => {
    const [a, b] = [key(), key()];
    for (let i = 0; i < 3; i++) await limiter.hit(a, MINUTE);
    expect((await limiter.hit(a, MINUTE)).allowed).toBe(false);
    expect(await limiter.hit(b, MINUTE)).toMatchObject({ allowed: true, remaining: 2 });
    await limiter.reset(a);
    expect(await limiter.hit(a, MINUTE)).toMatchObject({ allowed: true, remaining: 2 });
    expect(await limiter.peek(b, MINUTE)).toMatchObject({ remaining: 2 });
  });

  it('expires the key with the window', async () => {
    const k = key();
    await limiter.hit(k, MINUTE);
    const ttl = await redis.pttl(k);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });
});
