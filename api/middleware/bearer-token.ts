import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { ApiError } from '../problem.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Requires `Authorization: Bearer <token>`, a shared secret of a machine caller (Prometheus
 * scraping /metrics with `bearer_token_file`); anything else is 401 before the handler runs.
 */
export function bearerToken(options: { token: string; realm: string }): MiddlewareHandler<AppEnv> {
  const expected = digest(options.token);
  const challenge = { 'WWW-Authenticate': `Bearer realm="${options.realm}"` };
  return async function bearerTokenMiddleware(c, next) {
    const presented = /^Bearer +(\S+) *$/i.exec(c.req.header('authorization') ?? '')?.[1];
    // Equal-length digests: the comparison takes the same time whatever was sent, and leaks no length.
    if (presented === undefined || !timingSafeEqual(digest(presented), expected)) {
      throw new ApiError('UNAUTHENTICATED', undefined, undefined, undefined, challenge);
    }
    await next();
  };
}
