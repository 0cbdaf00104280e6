import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApiError } from '../problem.js';

export const MAX_BODY_BYTES = 1024 * 1024;

/** Bodies over 1 MiB are refused whether or not Content-Length is sent, or is honest. */
export function limitBody(): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    // The rest of a chunked body is never read, so the server drops the connection after
    // answering: say so, and a keep-alive client does not send its next request into it.
    onError: () => {
      throw new ApiError('PAYLOAD_TOO_LARGE', { headers: { Connection: 'close' } });
    },
  });
  // Reading a GET's body stream would cost @hono/node-server its fast path for nothing.
  return async function limitBodyMiddleware(c, next) {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    // A declared length is judged by the header alone: once the body stream is opened,
    // @hono/node-server cannot drain a body that an early refusal (401, 413, 429…) leaves
    // unread, and drops the connection, losing the answer or the client's next request.
    const length = c.req.header('content-length');
    if (length !== undefined && !c.req.header('transfer-encoding')) {
      if (parseInt(length, 10) > MAX_BODY_BYTES) throw new ApiError('PAYLOAD_TOO_LARGE');
      return next();
    }
    return limit(c, next);
  };
}

/** Whether the request has a body: by its headers off the wire, by its stream in-process. */
function carriesBody(request: Request): boolean {
  const length = request.headers.get('content-length');
  if (length !== null) return length.trim() !== '0';
  if (request.headers.has('transfer-encoding')) return true;
  // Clients send a body-less DELETE with neither header; @hono/node-server still gives it a stream.
  if (request.method === 'DELETE') return false;
  return request.body !== null;
}

/** Requests that carry a body must carry JSON. */
export function requireJson(): MiddlewareHandler {
  return async function requireJsonMiddleware(c, next) {
    if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(c.req.method) && carriesBody(c.req.raw)) {
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') throw new ApiError('UNSUPPORTED_MEDIA_TYPE');
    }
    await next();
  };
}
