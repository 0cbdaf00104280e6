import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApiError } from '../problem.js';

export const MAX_BODY_BYTES = 1024 * 1024;

/** Bodies over 1 MiB are refused whether or not Content-Length is sent, or is honest. */
export function limitBody(): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new ApiError('PAYLOAD_TOO_LARGE');
    },
  });
  // Reading a GET's body stream would cost @hono/node-server its fast path for nothing.
  return async function limitBodyMiddleware(c, next) {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    return limit(c, next);
  };
}

/** Whether the request has a body: by its headers off the wire, by its stream in-process. */
function carriesBody(request: Request): boolean {
  const length = request.headers.get('content-length');
  if (length !== null) return length.trim() !== '0';
  if (request.headers.has('transfer-encoding')) return true;
  return request.body !== null;
}

/** Requests that carry a body must carry JSON. */
export function requireJson(): MiddlewareHandler {
  return async function requireJsonMiddleware(c, next) {
    if (['POST', 'PUT', 'PATCH'].includes(c.req.method) && carriesBody(c.req.raw)) {
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') throw new ApiError('UNSUPPORTED_MEDIA_TYPE');
    }
    await next();
  };
}
