import { createHash } from 'node:crypto';
import type { Redis } from '../redis.js';

/** security.md 11; every value can be overridden so tests can use small ones. */
export const DEFAULT_LOGIN_GUARD_POLICY = {
  /** Failures are forgotten this long after the last one (or at once by `clear`). */
  failureWindowMs: 30 * 60_000,
  delayAfter: 3,
  baseDelayMs: 1_000,
  maxDelayMs: 5_000,
  captchaAfter: 5,
  lockAfter: 10,
  lockMs: 30 * 60_000,
};
export type LoginGuardPolicy = typeof DEFAULT_LOGIN_GUARD_POLICY;

export interface LoginRisk {
  /** How long the caller should wait before answering; the guard does not sleep. */
  delayMs: number;
  captchaRequired: boolean;
  locked: boolean;
  /** Until the lock lifts; 0 when not locked. */
  retryAfterMs: number;
}

// One hash per account. u*: failures from unrecognised devices, t*: from recognised ones; *n the
// count, *l the last failure, *k locked until (Redis milliseconds). Unrecognised devices are
// judged by every failure (u + t), recognised ones by their own only (t): a stranger's failures
// lock strangers out, never the owner's devices.
const RECORD = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local trusted, window, lockAfter, lockMs = ARGV[1] == '1', tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local f = redis.call('HMGET', KEYS[1], 'un', 'ul', 'tn', 'tl')
local function live(n, last)
  if n and last and now - tonumber(last) < window then return tonumber(n) end
  return 0
end
local u, tr = live(f[1], f[2]), live(f[3], f[4])
if trusted then
  tr = tr + 1
  redis.call('HSET', KEYS[1], 'tn', tr, 'tl', now)
  if tr >= lockAfter then redis.call('HSET', KEYS[1], 'tk', now + lockMs) end
else
  u = u + 1
  redis.call('HSET', KEYS[1], 'un', u, 'ul', now)
end
if u + tr >= lockAfter then redis.call('HSET', KEYS[1], 'uk', now + lockMs) end
redis.call('PEXPIRE', KEYS[1], math.max(window, lockMs))
return 1
`;
const COMMAND = 'tcLoginGuardRecord';
type RecordScript = (key: string, trusted: '0' | '1', windowMs: number, lockAfter: number, lockMs: number) => Promise<number>;

/** Lower-cased and hashed: unknown addresses are handled like known ones, and Redis sees no address. */
const accountKey = (email: string) => `login-guard:${createHash('sha256').update(email.trim().toLowerCase()).digest('hex')}`;

/**
 * Per-account brute-force protection (security.md 11): progressive delay, then CAPTCHA, then a
 * lock. A lock caused by failures from unrecognised devices does not apply to a device that
 * carries the account's device cookie, so a stranger cannot lock the owner out; `clear` (after
 * a successful login or a password reset) lifts everything.
 */
export function createLoginGuard(redis: Redis, options: Partial<LoginGuardPolicy> = {}) {
  const policy = { ...DEFAULT_LOGIN_GUARD_POLICY, ...options };
  redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: RECORD });
  // defineCommand adds the method at run time; ioredis cannot type it.
  const record = (redis as unknown as Record<typeof COMMAND, RecordScript>)[COMMAND].bind(redis);

  return {
    async assess(email: string, context: { trustedDevice: boolean }): Promise<LoginRisk> {
      // TIME and the read in one MULTI: the same clock the script writes with, at the same instant.
      const replies = await redis.multi().time().hmget(accountKey(email), 'un', 'ul', 'uk', 'tn', 'tl', 'tk').exec();
      const failed = replies?.find(([error]) => error);
      if (!replies || failed) throw failed?.[0] ?? new Error('login guard read was aborted');
      const [seconds, micros] = (replies[0]![1] as [string, string]).map(Number) as [number, number];
      const now = seconds * 1000 + Math.floor(micros / 1000);
      const [un, ul, uk, tn, tl, tk] = (replies[1]![1] as Array<string | null>).map((v) => (v === null ? 0 : Number(v)));
      const live = (count: number, last: number) => (count > 0 && now - last < policy.failureWindowMs ? count : 0);
      const trusted = live(tn!, tl!);
      const failures = context.trustedDevice ? trusted : live(un!, ul!) + trusted;
      const lockedUntil = context.trustedDevice ? tk! : uk!;
      if (lockedUntil > now) return { delayMs: 0, captchaRequired: failures >= policy.captchaAfter, locked: true, retryAfterMs: lockedUntil - now };
      const delayMs = failures >= policy.delayAfter ? Math.min(policy.baseDelayMs * 2 ** (failures - policy.delayAfter), policy.maxDelayMs) : 0;
      return { delayMs, captchaRequired: failures >= policy.captchaAfter, locked: false, retryAfterMs: 0 };
    },

    /** Counts a failed password (or unknown address) for the account. */
    async recordFailure(email: string, context: { trustedDevice: boolean }): Promise<void> {
      await record(accountKey(email), context.trustedDevice ? '1' : '0', policy.failureWindowMs, policy.lockAfter, policy.lockMs);
    },

    /** Forgets every failure and lock: after a successful login or a password reset. */
    async clear(email: string): Promise<void> {
      await redis.del(accountKey(email));
    },
  };
}
export type LoginGuard = ReturnType<typeof createLoginGuard>;
