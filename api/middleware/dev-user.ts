import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../env.js';
import { ApiError } from '../problem.js';

const userId = z.uuid();

/**
 * Development-only identification by the `X-Dev-User` header, until login lands.
 * In production the header is never read, so every caller is unauthenticated.
 */
export function devUser(options: { enabled: boolean }): MiddlewareHandler<AppEnv> {
  return async function devUserMiddleware(c, next) {
    const header = options.enabled ? c.req.header('x-dev-user') : undefined;
    const parsed = userId.safeParse(header);
    if (!parsed.success) throw new ApiError('UNAUTHENTICATED');
    c.set('userId', parsed.data.toLowerCase());
    await next();
  };
}
