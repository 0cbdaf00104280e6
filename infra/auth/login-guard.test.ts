import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test/support/eventually.js';
import { loadConfig } from '../config.js';
import { createRedis } from '../redis.js';
import { createLoginGuard, type LoginGuard } from './login-guard.js';

const prefix = `test:${randomBytes(6).toString('hex')}:`;
const redis = createRedis({ url: loadConfig({ ...process.env, NODE_ENV: 'test' }).redis.url, keyPrefix: prefix });
const guard = createLoginGuard(redis);
const email = () => `User.${randomBytes(6).toString('hex')}@Example.com`;
const stranger = { trustedDevice: false };
const owner = { trustedDevice: true };
const fail = async (g: LoginGuard, address: string, context: { trustedDevice: boolean }, times: number) => {
  for (let i = 0; i < times; i++) await g.recordFailure(address, context);
};

beforeAll(() => (redis.status === 'ready' ? undefined : once(redis, 'ready')));
afterAll(() => redis.disconnect());

describe('login guard (real Redis)', () => {
  it('steps up with the default policy: delay after 3, CAPTCHA after 5, lock for 30 min after 10', async () => {
    const address = email();
    const seen = [await guard.assess(address, stranger)];
    for (let i = 1; i <= 10; i++) {
      await guard.recordFailure(address, stranger);
      seen.push(await guard.assess(address, stranger));
    }
    expect(seen.map((r) => r.delayMs)).toEqual([0, 0, 0, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000, 5_000, 0]);
    expect(seen.map((r) => r.captchaRequired)).toEqual([false, false, false, false, false, true, true, true, true, true, true]);
    expect(seen.map((r) => r.locked)).toEqual([...Array<boolean>(10).fill(false), true]);
    const lock = seen[10]!;
    expect(lock.retryAfterMs).toBeGreaterThan(29 * 60_000);
    expect(lock.retryAfterMs).toBeLessThanOrEqual(30 * 60_000);
    expect(seen.slice(0, 10).every((r) => r.retryAfterMs === 0)).toBe(true);
  });

  it('treats an address the same however it is spelled, and keeps it out of Redis', async () => {
    const address = email();
    await fail(guard, `  ${address.toUpperCase()} `, stranger, 3);
    expect((await guard.assess(address.toLowerCase(), stranger)).delayMs).toBe(1_000);
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.join(' ').toLowerCase()).not.toContain('example.com');
    expect(keys.join(' ').toLowerCase()).not.toContain(address.split('@')[0]!.toLowerCase());
  });

  it("does not let a stranger's failures lock out, slow down or challenge the owner's recognised device", async () => {
    const address = email();
    await fail(guard, address, stranger, 12);
    expect((await guard.assess(address, stranger)).locked).toBe(true);
    expect(await guard.assess(address, owner)).toEqual({ delayMs: 0, captchaRequired: false, locked: false, retryAfterMs: 0 });
  });

  it("counts a recognised device's own failures, and locks everyone when they reach the limit", async () => {
    const address = email();
    await fail(guard, address, owner, 3);
    expect((await guard.assess(address, owner)).delayMs).toBe(1_000);
    // Strangers are judged by every failure of the account.
    await fail(guard, address, stranger, 2);
    expect(await guard.assess(address, stranger)).toMatchObject({ captchaRequired: true, locked: false });
    expect(await guard.assess(address, owner)).toMatchObject({ delayMs: 1_000, captchaRequired: false });
    await fail(guard, address, owner, 7);
    expect((await guard.assess(address, owner)).locked).toBe(true);
    expect((await guard.assess(address, stranger)).locked).toBe(true);
  });

  it('clear lifts counts and locks for every device', async () => {
    const address = email();
    await fail(guard, address, stranger, 10);
    await fail(guard, address, owner, 10);
    await guard.clear(address);
    for (const context of [stranger, owner]) {
      expect(await guard.assess(address, context)).toEqual({ delayMs: 0, captchaRequired: false, locked: false, retryAfterMs: 0 });
    }
  });

  it('forgets failures once the window since the last one has passed', async () => {
    const quick = createLoginGuard(redis, { failureWindowMs: 1_000, lockMs: 60_000 });
    const address = email();
    await fail(quick, address, stranger, 5);
    expect(await quick.assess(address, stranger)).toMatchObject({ captchaRequired: true, delayMs: 4_000 });
    await eventually(() => quick.assess(address, stranger), (r) => !r.captchaRequired, { timeoutMs: 5_000, intervalMs: 50, what: 'failures to be forgotten' });
    // The key outlives the window (lockMs), so this is the guard's own forgetting; counting restarts at one.
    await quick.recordFailure(address, stranger);
    expect((await quick.assess(address, stranger)).delayMs).toBe(0);
  });

  it('lifts the lock after lockMs, and honours other thresholds', async () => {
    const quick = createLoginGuard(redis, { lockAfter: 2, lockMs: 1_000, captchaAfter: 1, delayAfter: 1, baseDelayMs: 100, maxDelayMs: 150 });
    const address = email();
    await quick.recordFailure(address, stranger);
    expect(await quick.assess(address, stranger)).toEqual({ delayMs: 100, captchaRequired: true, locked: false, retryAfterMs: 0 });
    await quick.recordFailure(address, stranger);
    const locked = await quick.assess(address, stranger);
    expect(locked.locked).toBe(true);
    expect(locked.retryAfterMs).toBeGreaterThan(0);
    expect(locked.retryAfterMs).toBeLessThanOrEqual(1_000);
    const lifted = await eventually(() => quick.assess(address, stranger), (r) => !r.locked, { timeoutMs: 5_000, intervalMs: 50, what: 'the lock to lift' });
    expect(lifted).toMatchObject({ delayMs: 150, captchaRequired: true, retryAfterMs: 0 });
  });

  it('expires its Redis keys', async () => {
    await guard.recordFailure(email(), stranger);
    const keys = await redis.keys(`${prefix}login-guard:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const ttl = await redis.pttl(key.slice(prefix.length));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(30 * 60_000);
    }
  });
});
