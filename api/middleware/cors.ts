import type { MiddlewareHandler } from 'hono';

const ALLOW_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const ALLOW_HEADERS = 'Content-Type, Authorization, Idempotency-Key, X-CSRF-Token, X-Request-Id, X-Namespace';
const EXPOSE_HEADERS = 'X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy';

/**
 * CORS for an explicit allow-list (SECURITY.md §8): an allow-listed origin gets its own name back
 * and credentials; any other origin, `null` included, gets no CORS header at all. Hono's cors()
 * sends Allow-Credentials to every origin, which this does not.
 */
export function corsAllowList(options: { origins: readonly string[] }): MiddlewareHandler {
  const allowed = new Set(options.origins.filter((origin) => origin !== 'null'));
  return async function corsMiddleware(c, next) {
    const origin = c.req.header('origin');
    c.header('Vary', 'Origin');
    if (!origin || !allowed.has(origin)) return next();
    c.header('Access-Control-Allow-Origin', origin);
    c.header('Access-Control-Allow-Credentials', 'true');
    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
      c.header('Access-Control-Allow-Methods', ALLOW_METHODS);
      c.header('Access-Control-Allow-Headers', ALLOW_HEADERS);
      c.header('Access-Control-Max-Age', '600');
      return c.body(null, 204);
    }
    c.header('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    return next();
  };
}
