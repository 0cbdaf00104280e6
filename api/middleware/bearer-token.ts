import type { MiddlewareHandler } from 'hono';
import { bearerTokenCheck } from '../../infra/auth/bearer-token.js';
import type { AppEnv } from '../env.js';
import { ApiError } from '../problem.js';

/**
 * Requires `Authorization: Bearer <token>`, a shared secret of a machine caller (Prometheus
 * scraping /metrics with `bearer_token_file`); anything else is 401 before the handler runs.
 */
export function bearerToken(options: { token: string; realm: string }): MiddlewareHandler<AppEnv> {
  const presentsToken = bearerTokenCheck(options.token);
  const challenge = { 'WWW-Authenticate': `Bearer realm="${options.realm}"` };
  return async function bearerTokenMiddleware(c, next) {
    if (!presentsToken(c.req.header('authorization'))) {
      throw new ApiError('UNAUTHENTICATED', { headers: challenge });
    }
    await next();
  };
}
