import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from '../redis.js';

/** SECURITY.md §11; every value can be overridden so tests can use small ones. */
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

/** Failed password checks allowed per client address in a window (docs/api.md "Authentication": 5 per 15 minutes). */
export interface AddressPolicy {
  /** Who is asking: the address, or its network for IPv6 (api/middleware/client-ip.ts). */
  subject: string;
  limit: number;
  windowMs: number;
}

export type LoginAttempt =
  /** The password may be checked, after `delayMs`; the attempt already counts as a failure. */
  | { outcome: 'judge'; delayMs: number; attemptId: string }
  | { outcome: 'address-limited' | 'locked'; retryAfterMs: number }
  | { outcome: 'captcha-required' };

// One hash per account. u*: failures from unrecognised devices, t*: from recognised ones, d*:<id>
// from one recognised device; *n the count, *l the last failure, *k locked until (Redis
// milliseconds). Unrecognised devices are judged by every failure (u + t), a recognised one by its
// own only (d:<id>): a stranger's failures lock strangers out, never the owner's devices, and one
// device's failures (a shared or former computer) lock that device alone. One sorted set per
// client address holds its attempts (scored in Redis microseconds).
//
// Judging and counting are one script: an attempt is counted as a failure *before* its password
// is checked and given back only when the password was right, so N parallel guesses meet the
// same delay, CAPTCHA, lock and per-address limit as N sequential ones.
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
local device, captchaPassed = ARGV[1], ARGV[2] == '1'
local trusted = device ~= ''
local window, delayAfter, baseDelay, maxDelay = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local captchaAfter, lockAfter, lockMs = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local ipLimit, ipWindowUs, attempt = tonumber(ARGV[10]), tonumber(ARGV[11]) * 1000, ARGV[12]

redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', nowUs - ipWindowUs)
if redis.call('ZCARD', KEYS[2]) >= ipLimit then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return { 'address-limited', math.ceil((tonumber(oldest[2]) + ipWindowUs - nowUs) / 1000) }
end

local f = redis.call('HMGET', KEYS[1], 'un', 'ul', 'uk', 'tn', 'tl', 'dn:' .. device, 'dl:' .. device, 'dk:' .. device)
local function live(n, last)
  if n and last and now - tonumber(last) < window then return tonumber(n) end
  return 0
end
local u, tr, d = live(f[1], f[2]), live(f[4], f[5]), live(f[6], f[7])
local lk = f[3]
if trusted then lk = f[8] end
local lockedUntil = 0
if lk then lockedUntil = tonumber(lk) end
if lockedUntil > now then return { 'locked', lockedUntil - now } end
local failures = d
if not trusted then failures = u + tr end
if failures >= captchaAfter and not captchaPassed then return { 'captcha-required', 0 } end
local delay = 0
if failures >= delayAfter then delay = math.min(baseDelay * 2 ^ (failures - delayAfter), maxDelay) end

if trusted then
  tr, d = tr + 1, d + 1
  redis.call('HSET', KEYS[1], 'tn', tr, 'tl', now, 'dn:' .. device, d, 'dl:' .. device, now)
  if d >= lockAfter then redis.call('HSET', KEYS[1], 'dk:' .. device, now + lockMs) end
else
  u = u + 1
  redis.call('HSET', KEYS[1], 'un', u, 'ul', now)
end
if u + tr >= lockAfter then redis.call('HSET', KEYS[1], 'uk', now + lockMs) end
redis.call('PEXPIRE', KEYS[1], math.max(window, lockMs))
redis.call('ZADD', KEYS[2], nowUs, attempt)
redis.call('PEXPIRE', KEYS[2], ARGV[11])
return { 'judge', delay }
`;
const COMMAND = 'tcLoginGuardReserve';
type ReserveScript = (accountKey: string, addressKey: string, ...args: Array<string | number>) => Promise<[string, number]>;

/** Lower-cased and hashed: unknown addresses are handled like known ones, and Redis sees no address. */
const accountKey = (email: string) => `login-guard:${createHash('sha256').update(email.trim().toLowerCase()).digest('hex')}`;
const addressKey = (subject: string) => `login-failures:${subject}`;

/**
 * Per-account and per-address brute-force protection (SECURITY.md §11, §32, §36): progressive
 * delay, then CAPTCHA, then a lock. A lock caused by failures from unrecognised devices does not
 * apply to a device that carries the account's device cookie, so a stranger cannot lock the
 * owner out, and a recognised device's failures lock only that device; `succeeded` (the password
 * was right) and `clear` (a password reset) lift everything.
 */
export function createLoginGuard(redis: Redis, options: Partial<LoginGuardPolicy> = {}) {
  const policy = { ...DEFAULT_LOGIN_GUARD_POLICY, ...options };
  redis.defineCommand(COMMAND, { numberOfKeys: 2, lua: RESERVE });
  // defineCommand adds the method at run time; ioredis cannot type it.
  const reserveScript = (redis as unknown as Record<typeof COMMAND, ReserveScript>)[COMMAND].bind(redis);

  return {
    /**
     * Decides whether a password may be checked now and, if so, counts the attempt as a failure
     * for the account and the address before anyone checks it.
     */
    async reserve(email: string, context: { recognisedDevice: string | undefined; captchaPassed: boolean; address: AddressPolicy }): Promise<LoginAttempt> {
      const attemptId = randomUUID();
      const [outcome, value] = await reserveScript(
        accountKey(email), addressKey(context.address.subject),
        context.recognisedDevice ?? '', context.captchaPassed ? '1' : '0',
        policy.failureWindowMs, policy.delayAfter, policy.baseDelayMs, policy.maxDelayMs,
        policy.captchaAfter, policy.lockAfter, policy.lockMs,
        context.address.limit, context.address.windowMs, attemptId,
      );
      if (outcome === 'judge') return { outcome, delayMs: Number(value), attemptId };
      if (outcome === 'captcha-required') return { outcome };
      return { outcome: outcome as 'address-limited' | 'locked', retryAfterMs: Math.max(1, Number(value)) };
    },

    /** The password was right: the attempt was no failure, and the account's failures and lock are lifted. */
    async succeeded(email: string, address: AddressPolicy, attemptId: string): Promise<void> {
      await redis.multi().zrem(addressKey(address.subject), attemptId).del(accountKey(email)).exec();
    },

    /** Forgets every failure and lock of the account: after a password reset. */
    async clear(email: string): Promise<void> {
      await redis.del(accountKey(email));
    },
  };
}
export type LoginGuard = ReturnType<typeof createLoginGuard>;
