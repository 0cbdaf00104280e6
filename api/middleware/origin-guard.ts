import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../problem.js';
import { SAFE_METHODS } from './safe-methods.js';

/**
 * CSRF defence in depth (SECURITY.md §7): a state-changing request that a browser marks as coming
 * from another site (`Sec-Fetch-Site: cross-site`, or an `Origin` that is neither ours nor
 * allow-listed, `null` included) is refused whatever its content type, before any body is read.
 * Servers (Stripe's webhooks, mobile apps) send neither header and pass.
 */
export function originGuard(options: {
  origins: readonly string[];
  /** Further origins allowed under a path prefix only (the Temporal Web UI on /codec/). */
  byPath?: ReadonlyArray<{ prefix: string; origins: readonly string[] }>;
}): MiddlewareHandler {
  const allowed = new Set(options.origins.filter((origin) => origin !== 'null'));
  return async function originGuardMiddleware(c, next) {
    if (SAFE_METHODS.has(c.req.method)) return next();
    if (c.req.header('sec-fetch-site') === 'cross-site') throw new ApiError('CSRF_FAILED');
    const origin = c.req.header('origin');
    if (origin !== undefined && !allowed.has(origin) && origin !== new URL(c.req.url).origin) {
      const extra = options.byPath?.find((entry) => c.req.path.startsWith(entry.prefix));
      if (!extra?.origins.includes(origin) || origin === 'null') throw new ApiError('CSRF_FAILED');
    }
    return next();
  };
}
