import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test/support/eventually.js';
import { loadConfig } from '../config.js';
import { createRedis } from '../redis.js';
import { createLoginGuard, type LoginAttempt, type LoginGuard } from './login-guard.js';

const prefix = `test:${randomBytes(6).toString('hex')}:`;
const redis = createRedis({ url: loadConfig({ ...process.env, NODE_ENV: 'test' }).redis.url, keyPrefix: prefix });
const guard = createLoginGuard(redis);
const email = () => `User.${randomBytes(6).toString('hex')}@Example.com`;
const stranger = { recognisedDevice: undefined };
const owner = { recognisedDevice: 'owner-device' };
/** A client address of its own unless given, so only the account's guard is in play. */
const from = (subject = randomBytes(6).toString('hex'), limit = 1_000) => ({ subject, limit, windowMs: 15 * 60_000 });
/** One password check's reservation; one that is judged counts as a failure until given back. */
const attempt = (g: LoginGuard, address: string, context: { recognisedDevice: string | undefined }, options: { captchaPassed?: boolean; address?: ReturnType<typeof from> } = {}) =>
  g.reserve(address, { ...context, captchaPassed: options.captchaPassed ?? true, address: options.address ?? from() });
const fail = async (g: LoginGuard, address: string, context: { recognisedDevice: string | undefined }, times: number) => {
  for (let i = 0; i < times; i++) expect((await attempt(g, address, context)).outcome).toBe('judge');
};
const delayOf = (a: LoginAttempt) => (a.outcome === 'judge' ? a.delayMs : undefined);

beforeAll(() => (redis.status === 'ready' ? undefined : once(redis, 'ready')));
afterAll(() => redis.disconnect());

describe('login guard (real Redis)', () => {
  it('steps up with the default policy: delay after 3, CAPTCHA after 5, lock for 30 min after 10', async () => {
    const address = email();
    const seen: LoginAttempt[] = [];
    const challenged: LoginAttempt[] = [];
    for (let i = 0; i <= 10; i++) {
      challenged.push(await attempt(guard, address, stranger, { captchaPassed: false }));
      if (challenged.at(-1)!.outcome === 'judge') {
        seen.push(challenged.at(-1)!);
      } else {
        seen.push(await attempt(guard, address, stranger));
      }
    }
    expect(seen.map(delayOf)).toEqual([0, 0, 0, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000, 5_000, undefined]);
    expect(challenged.map((a) => a.outcome)).toEqual([...Array<string>(5).fill('judge'), ...Array<string>(5).fill('captcha-required'), 'locked']);
    const lock = seen[10]!;
    expect(lock.outcome).toBe('locked');
    if (lock.outcome !== 'locked') return;
    expect(lock.retryAfterMs).toBeGreaterThan(29 * 60_000);
    expect(lock.retryAfterMs).toBeLessThanOrEqual(30 * 60_000);
  });

  it('meets the same limits in parallel as in sequence: attempts are reserved before anyone judges them', async () => {
    const address = email();
    // 30 at once from one client address: its limit (5) holds.
    const shared = from(randomBytes(6).toString('hex'), 5);
    const sameAddress = await Promise.all(Array.from({ length: 30 }, () => attempt(guard, email(), stranger, { address: shared })));
    expect(sameAddress.filter((a) => a.outcome === 'judge')).toHaveLength(5);
    expect(sameAddress.filter((a) => a.outcome === 'address-limited')).toHaveLength(25);
    // 30 at once for one account from 30 addresses: the CAPTCHA threshold (5) holds.
    const oneAccount = await Promise.all(Array.from({ length: 30 }, () => attempt(guard, address, stranger, { captchaPassed: false })));
    expect(oneAccount.filter((a) => a.outcome === 'judge')).toHaveLength(5);
    expect(oneAccount.filter((a) => a.outcome === 'captcha-required')).toHaveLength(25);
  });

  it('gives a right password back: the address keeps its budget and the account its clean slate', async () => {
    const address = email();
    const client = from(randomBytes(6).toString('hex'), 2);
    for (let i = 0; i < 5; i++) {
      const reserved = await attempt(guard, address, stranger, { address: client });
      expect(reserved.outcome).toBe('judge');
      if (reserved.outcome === 'judge') await guard.succeeded(address, client, reserved.attemptId);
    }
    await fail(guard, address, stranger, 3);
    expect(delayOf(await attempt(guard, address, stranger))).toBe(1_000);
  });

  it('treats an address the same however it is spelled, and keeps it out of Redis', async () => {
    const address = email();
    await fail(guard, `  ${address.toUpperCase()} `, stranger, 3);
    expect(delayOf(await attempt(guard, address.toLowerCase(), stranger))).toBe(1_000);
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.join(' ').toLowerCase()).not.toContain('example.com');
    expect(keys.join(' ').toLowerCase()).not.toContain(address.split('@')[0]!.toLowerCase());
  });

  it("does not let a stranger's failures lock out, slow down or challenge the owner's recognised device", async () => {
    const address = email();
    await fail(guard, address, stranger, 10);
    expect((await attempt(guard, address, stranger)).outcome).toBe('locked');
    expect(await attempt(guard, address, owner, { captchaPassed: false })).toMatchObject({ outcome: 'judge', delayMs: 0 });
  });

  it("counts a recognised device's own failures, and locks everyone when they reach the limit", async () => {
    const address = email();
    await fail(guard, address, owner, 3);
    // Strangers are judged by every failure of the account (3 + this one + 1 = 5 before the next).
    await fail(guard, address, stranger, 2);
    expect((await attempt(guard, address, stranger, { captchaPassed: false })).outcome).toBe('captcha-required');
    expect(await attempt(guard, address, owner, { captchaPassed: false })).toMatchObject({ outcome: 'judge', delayMs: 1_000 });
    await fail(guard, address, owner, 6);
    expect((await attempt(guard, address, owner)).outcome).toBe('locked');
    expect((await attempt(guard, address, stranger)).outcome).toBe('locked');
  });

  it("locks only the recognised device whose failures they are, not the owner's others", async () => {
    const address = email();
    const shared = { recognisedDevice: 'shared-computer' };
    await fail(guard, address, shared, 10);
    expect((await attempt(guard, address, shared)).outcome).toBe('locked');
    expect(await attempt(guard, address, owner, { captchaPassed: false })).toMatchObject({ outcome: 'judge', delayMs: 0 });
    // Strangers are judged by every failure, the recognised devices' too.
    expect((await attempt(guard, address, stranger)).outcome).toBe('locked');
  });

  it('clear lifts counts and locks for every device', async () => {
    const address = email();
    await fail(guard, address, stranger, 10);
    await fail(guard, address, owner, 10);
    await guard.clear(address);
    for (const context of [stranger, owner]) {
      expect(await attempt(guard, address, context, { captchaPassed: false })).toMatchObject({ outcome: 'judge', delayMs: 0 });
    }
  });

  it('forgets failures once the window since the last one has passed', async () => {
    const quick = createLoginGuard(redis, { failureWindowMs: 1_000, lockMs: 60_000 });
    const address = email();
    await fail(quick, address, stranger, 5);
    expect((await attempt(quick, address, stranger, { captchaPassed: false })).outcome).toBe('captcha-required');
    await eventually(() => attempt(quick, address, stranger, { captchaPassed: false }), (r) => r.outcome === 'judge', { timeoutMs: 5_000, intervalMs: 50, what: 'failures to be forgotten' });
    // The key outlives the window (lockMs), so this is the guard's own forgetting; counting restarts at one.
    expect(delayOf(await attempt(quick, address, stranger))).toBe(0);
  });

  it('lifts the lock after lockMs, and honours other thresholds', async () => {
    const quick = createLoginGuard(redis, { lockAfter: 2, lockMs: 1_000, captchaAfter: 1, delayAfter: 1, baseDelayMs: 100, maxDelayMs: 150 });
    const address = email();
    await fail(quick, address, stranger, 1);
    expect((await attempt(quick, address, stranger, { captchaPassed: false })).outcome).toBe('captcha-required');
    expect(await attempt(quick, address, stranger)).toMatchObject({ outcome: 'judge', delayMs: 100 });
    const locked = await attempt(quick, address, stranger);
    expect(locked.outcome).toBe('locked');
    if (locked.outcome !== 'locked') return;
    expect(locked.retryAfterMs).toBeGreaterThan(0);
    expect(locked.retryAfterMs).toBeLessThanOrEqual(1_000);
    const lifted = await eventually(() => attempt(quick, address, stranger), (r) => r.outcome !== 'locked', { timeoutMs: 5_000, intervalMs: 50, what: 'the lock to lift' });
    expect(lifted).toMatchObject({ outcome: 'judge', delayMs: 150 });
  });

  it('expires its Redis keys', async () => {
    await fail(guard, email(), stranger, 1);
    const keys = await redis.keys(`${prefix}login-*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const ttl = await redis.pttl(key.slice(prefix.length));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(30 * 60_000);
    }
  });
});
