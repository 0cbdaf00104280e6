import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import type { Logger } from '../../infra/logger.js';

const SAFE_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** Gives every request an id (a caller's well-formed one is kept), a child logger and an access log line. */
export function requestId(options: { log: Logger }): MiddlewareHandler<AppEnv> {
  return async function requestIdMiddleware(c, next) {
    const offered = c.req.header('x-request-id');
    const id = offered && SAFE_ID.test(offered) ? offered : randomUUID();
    const log = options.log.child({ requestId: id });
    c.set('requestId', id);
    c.set('log', log);
    // Set before the handler runs, so the header is part of the response as it is built
    // (changing a finished response's headers costs @hono/node-server its fast path).
    c.header('X-Request-Id', id);
    const started = performance.now();
    await next();
    log.info(
      { method: c.req.method, route: c.req.routePath, status: c.res.status, ms: Math.round(performance.now() - started) },
      'request',
    );
  };
}
