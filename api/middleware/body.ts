import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApiError } from '../problem.js';

export const MAX_BODY_BYTES = 1024 * 1024;

/** Bodies over 1 MiB are refused whether or not Content-Length is sent, or is honest. */
export function limitBody(): MiddlewareHandler {
  return bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new ApiError('PAYLOAD_TOO_LARGE');
    },
  });
}

/** Requests that carry a body must carry JSON. */
export function requireJson(): MiddlewareHandler {
  return async function requireJsonMiddleware(c, next) {
    if (['POST', 'PUT', 'PATCH'].includes(c.req.method) && c.req.raw.body !== null) {
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') throw new ApiError('UNSUPPORTED_MEDIA_TYPE');
    }
    await next();
  };
}
