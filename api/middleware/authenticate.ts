import type { MiddlewareHandler } from 'hono';
import { readCookie } from '../auth-cookies.js';
import type { AppEnv, Role } from '../env.js';
import { ApiError } from '../problem.js';
import type { CsrfTokens } from '../../infra/auth/csrf.js';
import type { DenialAudit } from './denial-limit.js';
import { SAFE_METHODS } from './safe-methods.js';

/** Who calls: what the auth service answers for a live session. */
export interface Caller {
  userId: string;
  sessionId: string;
  role: Role;
}

/** What authenticate asks of the auth service (api/auth.service.ts): the caller behind a token, or an ApiError. */
export interface Authenticator {
  authenticate(accessToken: string): Promise<Caller>;
  callerOfRefreshToken(refreshToken: string): Promise<Caller>;
}

/**
 * Authenticates every request under it: a bearer token (mobile clients) or the access cookie
 * (browsers), then the session behind it (revoked, idle, expired). A cookie-authenticated
 * state-changing request must also carry X-CSRF-Token equal to the CSRF cookie and bound to
 * this session; a bearer token cannot be sent by a browser on its own, so it needs none.
 * `optional`: callers without a token pass as anonymous (search is open to them).
 */
export function authenticate(options: {
  auth: Authenticator;
  csrf: CsrfTokens;
  /** Audits each denial, limited per user and address (429 past the limit). */
  denials: DenialAudit;
  optional?: boolean;
  /** Off only for routes that change nothing (the codec server), which the Web UI calls without a token. */
  csrfCheck?: boolean;
  /**
   * Logout only: a browser whose access token has lapsed is known by its refresh cookie (sent to
   * /api/v1/auth alone), so that logging out never depends on refreshing first.
   */
  refreshCookie?: boolean;
}): MiddlewareHandler<AppEnv> {
  const { auth } = options;
  return async function authenticateMiddleware(c, next) {
    const header = c.req.header('authorization');
    const bearer = header?.match(/^Bearer ([A-Za-z0-9._~+/-]+=*)$/)?.[1];
    const token = bearer ?? (header ? undefined : readCookie.access(c));
    const refresh = options.refreshCookie && !header ? readCookie.refresh(c) : undefined;
    if (!token && !refresh) {
      if (options.optional) return next();
      throw new ApiError('UNAUTHENTICATED');
    }
    const claims = !refresh
      ? await auth.authenticate(token!)
      : token
        ? await auth.authenticate(token).catch(() => auth.callerOfRefreshToken(refresh))
        : await auth.callerOfRefreshToken(refresh);
    const audit = (action: string, result: string) =>
      options.denials({
        userId: claims.userId,
        ip: c.get('clientIp'),
        event: {
          actor: `user:${claims.userId}`, action, resource: `${c.req.method} ${rawPath(c.req.url)}`, result,
          ip: c.get('clientIp'), userAgent: c.req.header('user-agent') ?? null,
        },
      });
    if (!bearer && options.csrfCheck !== false && !SAFE_METHODS.has(c.req.method)) {
      try {
        requireCsrf(options.csrf, claims.sessionId, c.req.header('x-csrf-token'), readCookie.csrf(c));
      } catch (error) {
        await audit('authz.csrf', 'denied');
        throw error;
      }
    }
    c.set('userId', claims.userId);
    c.set('sessionId', claims.sessionId);
    c.set('role', claims.role);
    c.set('auditDenied', () => audit('authz.role', 'denied'));
    await next();
    c.header('Cache-Control', 'no-store');
  };
}

/**
 * The path as the client sent it, still percent-encoded (printable ASCII, no NUL, what the admin
 * search can ask for); `c.req.path` is decoded. appendAudit cuts it to the column's width.
 */
const rawPath = (url: string) => new URL(url).pathname;

export function requireCsrf(csrf: CsrfTokens, sessionId: string, header: string | undefined, cookie: string | undefined) {
  if (!header || !cookie || !csrf.verify(sessionId, header, cookie)) throw new ApiError('CSRF_FAILED');
}

/** Routes for some roles only; to everyone else they do not exist (404, not 403). */
export function requireRole(...roles: Role[]): MiddlewareHandler<AppEnv> {
  return async function requireRoleMiddleware(c, next) {
    if (!roles.includes(c.get('role'))) {
      await c.get('auditDenied')?.();
      throw new ApiError('NOT_FOUND');
    }
    await next();
  };
}
