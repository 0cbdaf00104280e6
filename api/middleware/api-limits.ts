import type { Context, MiddlewareHandler } from 'hono';
import type { Metrics } from '../../infra/metrics.js';
import type { SlidingWindowLimiter } from '../../infra/rate-limit/sliding-window.js';
import type { AppEnv } from '../env.js';
import { rateLimit } from './rate-limit.js';
import { ipRateLimitSubject } from '../../infra/rate-limit/ip-subject.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Every limit of docs/api.md (SECURITY.md §10). Login failures are counted in the auth service. */
export function createApiLimits(options: { limiter: SlidingWindowLimiter; metrics: Metrics }) {
  const byIp = (c: Context<AppEnv>) => ipRateLimitSubject(c.get('clientIp'));
  const byUser = (c: Context<AppEnv>) => c.get('userId');
  const onReject = (name: string) => options.metrics.rateLimited.inc({ limit: name });
  const limit = (name: string, max: number, windowMs: number, key: (c: Context<AppEnv>) => string | undefined, failClosed = false) =>
    rateLimit<AppEnv>({ limiter: options.limiter, name, limit: max, windowMs, key, onReject, failClosed });
  return {
    // Account creation and reset mail are what attackers spam: with Redis down these refuse.
    signup: limit('signup', 10, DAY, byIp, true),
    passwordReset: limit('password-reset', 3, HOUR, byIp, true),
    // Writes and KMS calls refuse with Redis down too: an outage must not lift the limits that
    // bound charges, saga starts and KMS cost. Reads (search) stay open.
    bookingCreate: limitOnly(['POST'], limit('booking-create', 20, DAY, byUser, true)),
    // Cancelling and editing (notes, contact) share one budget per traveller.
    bookingChange: limitOnly(['POST', 'PATCH'], limit('booking-change', 10, HOUR, byUser, true)),
    search: limit('search', 100, MINUTE, (c) => c.get('userId') ?? `ip:${byIp(c)}`),
    // The Web UI's codec calls, per operator: each may reach KMS, so a script cannot loop on it.
    codec: limit('codec', 600, MINUTE, byUser, true),
    // The export decrypts everything held about the caller: a few an hour serve any real need.
    accountExport: limit('account-export', 5, HOUR, byUser),
  };
}

function limitOnly(methods: readonly string[], middleware: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> {
  return async function limitOnlyMethod(c, next) {
    if (!methods.includes(c.req.method)) return next();
    return middleware(c, next);
  };
}
