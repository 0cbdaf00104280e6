import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv } from '../env.js';
import { ApiError, problemBody, type ErrorCode } from '../problem.js';

function render(c: Context<AppEnv>, error: ApiError) {
  const requestId = c.get('requestId') ?? 'unknown';
  return c.body(JSON.stringify(problemBody(error, requestId)), error.status, {
    ...error.headers,
    'Content-Type': 'application/problem+json',
  });
}

const FROM_HTTP_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

/** The one error funnel: known errors keep their code, anything else is a 500 with only a request id. */
export const onError: ErrorHandler<AppEnv> = (error, c) => {
  if (error instanceof ApiError) return render(c, error);
  if (error instanceof HTTPException && FROM_HTTP_STATUS[error.status]) {
    return render(c, new ApiError(FROM_HTTP_STATUS[error.status]!));
  }
  // The detail stays in the server log under the request id; the client sees none of it.
  c.get('log')?.error({ err: error }, 'unhandled error');
  return render(c, new ApiError('INTERNAL'));
};

/**
 * 404, or 405 with `Allow` when the path exists under other methods. `routes` is read when a
 * request misses, so routes mounted after this handler was installed count too.
 */
export function notFound(routes: () => ReadonlyArray<{ method: string; path: string }>): NotFoundHandler<AppEnv> {
  return (c) => {
    const allowed = new Set(
      routes()
        .filter((r) => r.method !== 'ALL' && pathPattern(r.path).test(c.req.path))
        .map((r) => r.method),
    );
    if (allowed.size === 0) return render(c, new ApiError('NOT_FOUND'));
    c.header('Allow', [...allowed].sort().join(', '));
    return render(c, new ApiError('METHOD_NOT_ALLOWED'));
  };
}

const patterns = new Map<string, RegExp>();
function pathPattern(path: string): RegExp {
  let pattern = patterns.get(path);
  if (!pattern) {
    const source = path
      .split('/')
      .map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    pattern = new RegExp(`^${source}/?$`);
    patterns.set(path, pattern);
  }
  return pattern;
}
