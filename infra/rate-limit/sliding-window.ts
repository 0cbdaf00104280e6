import type { Redis } from '../redis.js';

export interface RateLimitPolicy {
  limit: number;
  windowMs: number;
}

export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  /** Units left in the window after this call (a peek or a refused hit takes none). */
  remaining: number;
  /** Until the window is empty again, i.e. the whole quota is back. */
  resetMs: number;
  /** Until a request of this cost would be allowed; 0 when it is. */
  retryAfterMs: number;
}

// A sorted-set log rather than the two-window counter: the counter only estimates the previous
// window's spread, and the auth limits (5 per 15 min) are small enough to be enforced exactly.
// Refused hits are never logged, so a key holds at most `limit` members. Scores are Redis
// microseconds, so every API process shares one clock whatever its own says.
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit, window, cost, consume = tonumber(ARGV[1]), tonumber(ARGV[2]) * 1000, tonumber(ARGV[3]), ARGV[4] == '1'
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
local allowed = used + cost <= limit
local retry = 0
if allowed and consume then
  local n = used
  for i = 1, cost do
    while redis.call('ZADD', KEYS[1], 'NX', now, t[1] .. '.' .. t[2] .. '-' .. n) == 0 do n = n + 1 end
    n = n + 1
  end
  used = used + cost
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
elseif not allowed then
  -- Allowed again once the (used + cost - limit) oldest entries have left the window.
  local freeing = redis.call('ZRANGE', KEYS[1], used + cost - limit - 1, used + cost - limit - 1, 'WITHSCORES')
  retry = tonumber(freeing[2]) + window - now
end
local reset = 0
if used > 0 then
  local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  reset = tonumber(newest[2]) + window - now
end
return { allowed and 1 or 0, math.max(limit - used, 0), math.ceil(reset / 1000), math.ceil(retry / 1000) }
`;

/** The script's source, for measuring it on its own (bench/search.bench.ts runs it through redis-benchmark). */
export const SLIDING_WINDOW_SCRIPT = SCRIPT;

const COMMAND = 'tcSlidingWindow';
type RunScript = (key: string, limit: number, windowMs: number, cost: number, consume: '0' | '1') => Promise<[number, number, number, number]>;

function assertPositiveInt(name: string, value: number) {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`rate limit ${name} must be a positive integer, got ${value}`);
}

/**
 * A sliding-window rate limiter whose check-and-count is one Lua script, so concurrent API
 * processes never both take the last unit; a refused hit does not count, so a client that
 * stops recovers as the window slides.
 */
export function createSlidingWindowLimiter(redis: Redis) {
  redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: SCRIPT });
  // defineCommand adds the method at run time; ioredis cannot type it.
  const run = (redis as unknown as Record<typeof COMMAND, RunScript>)[COMMAND].bind(redis);

  async function call(key: string, policy: RateLimitPolicy, cost: number, consume: boolean): Promise<RateLimitResult> {
    assertPositiveInt('limit', policy.limit);
    assertPositiveInt('windowMs', policy.windowMs);
    assertPositiveInt('cost', cost);
    if (cost > policy.limit) throw new RangeError(`rate limit cost ${cost} exceeds the limit ${policy.limit}: it could never pass`);
    const [allowed, remaining, resetMs, retryAfterMs] = await run(key, policy.limit, policy.windowMs, cost, consume ? '1' : '0');
    return { allowed: allowed === 1, limit: policy.limit, remaining, resetMs, retryAfterMs };
  }

  return {
    /** Takes `cost` units (default 1) if they fit in the window. */
    hit: (key: string, options: RateLimitPolicy & { cost?: number }) => call(key, options, options.cost ?? 1, true),
    /** What a hit of one unit would answer now, consuming nothing. */
    peek: (key: string, options: RateLimitPolicy) => call(key, options, 1, false),
    /** Forgets every hit of the key. */
    async reset(key: string): Promise<void> {
      await redis.del(key);
    },
  };
}
export type SlidingWindowLimiter = ReturnType<typeof createSlidingWindowLimiter>;
