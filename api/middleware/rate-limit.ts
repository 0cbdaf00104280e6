import type { Context, MiddlewareHandler } from 'hono';
import type { RateLimitPolicy, RateLimitResult, SlidingWindowLimiter } from '../../infra/rate-limit/sliding-window.js';
import type { AppEnv } from '../env.js';
import { ApiError } from '../problem.js';

export interface RateLimitOptions<E extends AppEnv> extends RateLimitPolicy {
  limiter: SlidingWindowLimiter;
  /** Names the limit in its Redis key and in the metric, e.g. `signup`. */
  name: string;
  /** Whom the limit counts; `undefined` lets the request through uncounted. */
  key: (c: Context<E>) => string | undefined;
  cost?: number;
  /** Called once per refused request, for the rate-limited metric. */
  onReject?: (name: string) => void;
  /** With Redis unreachable: refuse with 503 (true, for auth endpoints) or let requests through. */
  failClosed?: boolean;
}

const seconds = (ms: number) => Math.ceil(ms / 1000);
const redisKey = (name: string, key: string) => `rl:${name}:${key}`;

/** The 429 for a refused hit, with its Retry-After. */
export function rateLimited(result: RateLimitResult): ApiError {
  // At least one second: `Retry-After: 0` would invite an immediate retry that is refused again.
  return new ApiError('RATE_LIMITED', { headers: { 'Retry-After': String(Math.max(1, seconds(result.retryAfterMs))) } });
}

/**
 * A sliding-window limit on a route (SECURITY.md §10), with the RateLimit-* headers of
 * draft-ietf-httpapi-ratelimit-headers on every answer and 429 + Retry-After past the limit.
 */
export function rateLimit<E extends AppEnv = AppEnv>(options: RateLimitOptions<E>): MiddlewareHandler<E> {
  const policy = `${options.limit};w=${seconds(options.windowMs)}`;
  // A bad limit would otherwise surface per request, where failing open would hide it.
  const cost = options.cost ?? 1;
  for (const value of [options.limit, options.windowMs, cost]) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`rate limit ${options.name}: limit, windowMs and cost must be positive integers`);
  }
  if (cost > options.limit) throw new RangeError(`rate limit ${options.name}: cost exceeds the limit`);
  return async function rateLimitMiddleware(c, next) {
    const subject = options.key(c);
    if (subject === undefined) return next();
    let result: RateLimitResult;
    try {
      result = await options.limiter.hit(redisKey(options.name, subject), { limit: options.limit, windowMs: options.windowMs, cost });
    } catch (error) {
      c.get('log')?.warn({ err: (error as Error).message, limit: options.name, failClosed: Boolean(options.failClosed) }, 'rate limiter unavailable');
      if (options.failClosed) throw new ApiError('SERVICE_UNAVAILABLE');
      // Failing open: an outage of the limiter must not take the read paths down with it.
      return next();
    }
    c.header('RateLimit-Limit', String(result.limit));
    c.header('RateLimit-Remaining', String(result.remaining));
    c.header('RateLimit-Reset', String(seconds(result.resetMs)));
    c.header('RateLimit-Policy', policy);
    if (!result.allowed) {
      options.onReject?.(options.name);
      throw rateLimited(result);
    }
    await next();
  };
}
