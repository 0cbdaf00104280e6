import { createRoute, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import {
  loginSchema, passwordResetConfirmSchema, passwordResetRequestSchema, refreshSchema, signupSchema, verifyEmailSchema,
} from '../../domain/identity/auth.schemas.js';
import type { CsrfTokens } from '../../infra/auth/csrf.js';
import type { AuthService, CallContext } from '../auth.service.js';
import { clearSessionCookies, readCookie, setDeviceCookie, setSessionCookies, type IssuedTokens } from '../auth-cookies.js';
import type { AppEnv } from '../env.js';
import { requireCsrf } from '../middleware/authenticate.js';
import { createRouter, problems } from '../openapi.js';
import { idPathParam, resourceIdOf } from '../path-id.js';
import { ApiError } from '../problem.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const body = <T extends z.ZodType>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });

const userSchema = z.object({ id: z.string(), email: z.string(), name: z.string(), role: z.enum(['user', 'support', 'admin']) }).openapi('User');
const signedInSchema = z
  .object({
    user: userSchema,
    csrfToken: z.string(),
    accessTokenExpiresAt: z.string(),
    accessToken: z.string().optional().openapi({ description: 'Only with tokenDelivery "body"' }),
    refreshToken: z.string().optional().openapi({ description: 'Only with tokenDelivery "body"' }),
    refreshTokenExpiresAt: z.string().optional(),
  })
  .openapi('SignedIn');
const sessionSchema = z
  .object({ id: z.string(), device: z.string(), ip: z.string(), createdAt: z.string(), lastSeenAt: z.string(), current: z.boolean() })
  .openapi('Session');
const csrfHeader = z.object({ 'x-csrf-token': z.string().optional().openapi({ description: 'Required with cookie authentication' }) });

const route = <M extends 'get' | 'post' | 'delete', P extends string>(method: M, path: P, summary: string) => ({ method, path, summary });

const signup = createRoute({
  ...route('post', '/signup', 'Create an account; a verification link is mailed'),
  request: body(signupSchema),
  // 503: its limit refuses while Redis cannot count (api/middleware/api-limits.ts).
  responses: { 202: json(z.object({ status: z.literal('verification_sent') }), 'The same answer whether or not the address has an account'), ...problems('VALIDATION_FAILED', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE') },
});
const verifyEmail = createRoute({
  ...route('post', '/verify-email', 'Confirm the address with the mailed token and the password chosen at signup; signs in'),
  request: body(verifyEmailSchema),
  responses: {
    200: json(signedInSchema, 'Signed in'),
    ...problems('VALIDATION_FAILED', 'INVALID_TOKEN', 'INVALID_CREDENTIALS', 'CAPTCHA_REQUIRED', 'ACCOUNT_LOCKED', 'RATE_LIMITED'),
  },
});
const login = createRoute({
  ...route('post', '/login', 'Sign in'),
  request: body(loginSchema),
  responses: {
    200: json(signedInSchema, 'Signed in: cookies set, or tokens in the body for mobile clients'),
    ...problems('VALIDATION_FAILED', 'INVALID_CREDENTIALS', 'CAPTCHA_REQUIRED', 'EMAIL_NOT_VERIFIED', 'ACCOUNT_LOCKED', 'RATE_LIMITED'),
  },
});
const refresh = createRoute({
  ...route('post', '/refresh', 'Rotate the refresh token for new tokens'),
  request: { headers: csrfHeader, body: { content: { 'application/json': { schema: refreshSchema } }, required: false } },
  responses: { 200: json(signedInSchema, 'New tokens'), ...problems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'SESSION_EXPIRED', 'CSRF_FAILED', 'RATE_LIMITED') },
});
const logout = createRoute({
  ...route('post', '/logout', 'Sign out: the session is revoked at once'),
  description: 'A browser whose access token has lapsed is known by its refresh cookie. Cookies that name no live session are cleared too (401).',
  request: { headers: csrfHeader },
  responses: { 204: { description: 'Signed out; cookies cleared' }, ...problems('UNAUTHENTICATED', 'SESSION_EXPIRED', 'CSRF_FAILED', 'RATE_LIMITED') },
});
const listSessions = createRoute({
  ...route('get', '/sessions', "The caller's signed-in devices"),
  responses: { 200: json(z.object({ sessions: z.array(sessionSchema) }), 'Live sessions, newest first'), ...problems('UNAUTHENTICATED', 'SESSION_EXPIRED') },
});
const revokeSession = createRoute({
  ...route('delete', '/sessions/{id}', 'Sign one device out'),
  request: { headers: csrfHeader, params: idPathParam },
  responses: { 204: { description: 'Revoked' }, ...problems('UNAUTHENTICATED', 'CSRF_FAILED', 'NOT_FOUND', 'RATE_LIMITED') },
});
const resetRequest = createRoute({
  ...route('post', '/password-reset/request', 'Mail a password-reset link'),
  request: body(passwordResetRequestSchema),
  responses: { 202: json(z.object({ status: z.literal('reset_requested') }), 'The same answer whether or not the address has an account'), ...problems('VALIDATION_FAILED', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE') },
});
const resetConfirm = createRoute({
  ...route('post', '/password-reset/confirm', 'Set a new password with the mailed token; every session ends'),
  request: body(passwordResetConfirmSchema),
  responses: { 204: { description: 'Password changed' }, ...problems('VALIDATION_FAILED', 'INVALID_TOKEN') },
});

function callContext(c: Context<AppEnv>): CallContext {
  return { ip: c.get('clientIp'), userAgent: (c.req.header('user-agent') ?? '').slice(0, 200) };
}

function signedInBody(signedIn: IssuedTokens & { user: unknown }, delivery: 'cookie' | 'body') {
  return {
    user: signedIn.user as z.infer<typeof userSchema>,
    csrfToken: signedIn.csrfToken,
    accessTokenExpiresAt: signedIn.accessTokenExpiresAt.toISOString(),
    ...(delivery === 'body'
      ? { accessToken: signedIn.accessToken, refreshToken: signedIn.refreshToken, refreshTokenExpiresAt: signedIn.refreshTokenExpiresAt.toISOString() }
      : {}),
  };
}

function deliver(c: Context<AppEnv>, signedIn: IssuedTokens & { user: unknown }, delivery: 'cookie' | 'body') {
  if (delivery === 'cookie') setSessionCookies(c, signedIn);
  c.header('Cache-Control', 'no-store');
  return signedInBody(signedIn, delivery);
}

/** Cookies that name no live session go whatever else the logout answers: they would sign nobody in again. */
const clearDeadCookies: MiddlewareHandler<AppEnv> = async function clearDeadCookies(c, next) {
  await next();
  if (c.res.status === 401) clearSessionCookies(c);
};

/**
 * docs/api.md "Authentication". `authenticated` guards the routes that need a session; `loggingOut` is
 * the same but also knows a browser by its refresh cookie, so a lapsed access token still logs out.
 */
export function authRoutes(deps: {
  auth: AuthService;
  csrf: CsrfTokens;
  authenticated: MiddlewareHandler<AppEnv>;
  loggingOut: MiddlewareHandler<AppEnv>;
}) {
  const { auth } = deps;
  const router = createRouter();
  router.use('/logout', clearDeadCookies, deps.loggingOut);
  router.use('/sessions', deps.authenticated);
  router.use('/sessions/*', deps.authenticated);
  return router
    .openapi(signup, async (c) => c.json(await auth.signup(c.req.valid('json'), callContext(c)), 202))
    .openapi(verifyEmail, async (c) => {
      const { token, password, tokenDelivery } = c.req.valid('json');
      return c.json(deliver(c, await auth.verifyEmail(token, password, callContext(c)), tokenDelivery), 200);
    })
    .openapi(login, async (c) => {
      const { tokenDelivery, ...credentials } = c.req.valid('json');
      const signedIn = await auth.login(credentials, { ...callContext(c), deviceCookie: readCookie.device(c) });
      setDeviceCookie(c, signedIn.deviceCookie);
      return c.json(deliver(c, signedIn, tokenDelivery), 200);
    })
    .openapi(refresh, async (c) => {
      // A browser may send no body at all: its refresh token is in the cookie.
      const { refreshToken: inBody, tokenDelivery = 'cookie' } = (c.req.valid('json') as z.infer<typeof refreshSchema> | undefined) ?? {};
      const token = inBody ?? readCookie.refresh(c);
      if (!token) throw new ApiError('UNAUTHENTICATED');
      if (!inBody) {
        // The cookie goes with every request a browser sends: prove this one came from our page.
        const sessionId = await auth.sessionOfRefreshToken(token);
        if (!sessionId) throw new ApiError('UNAUTHENTICATED');
        requireCsrf(deps.csrf, sessionId, c.req.header('x-csrf-token'), readCookie.csrf(c));
      }
      return c.json(deliver(c, await auth.refresh(token), tokenDelivery), 200);
    })
    .openapi(logout, async (c) => {
      await auth.logout({ userId: c.get('userId'), sessionId: c.get('sessionId') }, callContext(c));
      clearSessionCookies(c);
      return c.body(null, 204);
    })
    .openapi(listSessions, async (c) => {
      return c.json({ sessions: await auth.listSessions({ userId: c.get('userId'), sessionId: c.get('sessionId') }) }, 200);
    })
    .openapi(revokeSession, async (c) => {
      const id = resourceIdOf(c.req.valid('param').id);
      await auth.revokeSession({ userId: c.get('userId') }, id.toLowerCase(), callContext(c));
      return c.body(null, 204);
    })
    .openapi(resetRequest, async (c) => {
      await auth.requestPasswordReset(c.req.valid('json').email, callContext(c));
      return c.json({ status: 'reset_requested' as const }, 202);
    })
    .openapi(resetConfirm, async (c) => {
      const { token, newPassword } = c.req.valid('json');
      await auth.confirmPasswordReset(token, newPassword, callContext(c));
      return c.body(null, 204);
    });
}
