import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createCsrfTokens } from '../../infra/auth/csrf.js';
import type { AppEnv, Role } from '../env.js';
import { ApiError } from '../problem.js';
import { authenticate, requireRole, type Authenticator, type Caller } from './authenticate.js';
import type { Denial } from './denial-limit.js';
import { onError } from './errors.js';

const csrf = createCsrfTokens(randomBytes(32));
const ADA: Caller = { userId: 'user-ada', sessionId: 'session-ada', role: 'user' };
const GRACE: Caller = { userId: 'user-grace', sessionId: 'session-grace', role: 'admin' };

/** Access tokens and refresh tokens the fake auth service knows; anything else is SESSION_EXPIRED. */
const auth: Authenticator = {
  async authenticate(token) {
    const caller = ({ 'access-ada': ADA, 'access-grace': GRACE } as Record<string, Caller>)[token];
    if (!caller) throw new ApiError('SESSION_EXPIRED');
    return caller;
  },
  async callerOfRefreshToken(token) {
    if (token !== 'refresh-ada') throw new ApiError('SESSION_EXPIRED');
    return ADA;
  },
};

function appWith(options: { optional?: boolean; csrfCheck?: boolean; refreshCookie?: boolean; roles?: Role[] } = {}) {
  const denials: Denial[] = [];
  const app = new Hono<AppEnv>().onError(onError);
  app.use(async (c, next) => {
    c.set('clientIp', '203.0.113.9');
    await next();
  });
  app.use(authenticate({ auth, csrf, denials: async (denial) => void denials.push(denial), ...options }));
  if (options.roles) app.use(requireRole(...options.roles));
  app.all('*', (c) => c.json({ userId: c.get('userId') ?? null, role: c.get('role') ?? null }));
  return { app, denials };
}

const cookies = (values: Record<string, string>) => ({
  Cookie: Object.entries(values)
    .map(([name, value]) => `${name}=${value}`)
    .join('; '),
});
const access = (token: string) => ({ '__Host-tc_access': token });

describe('authenticate middleware', () => {
  it('knows the caller by a bearer token, sets who it is, and marks the answer no-store', async () => {
    const response = await appWith().app.request('/bookings', { headers: { Authorization: 'Bearer access-grace' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ userId: 'user-grace', role: 'admin' });
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('answers 401 without a token, and lets an anonymous caller through only where it is optional', async () => {
    const required = await appWith().app.request('/bookings');
    expect(required.status).toBe(401);
    expect(((await required.json()) as { code: string }).code).toBe('UNAUTHENTICATED');
    expect(await (await appWith({ optional: true }).app.request('/search')).json()).toEqual({ userId: null, role: null });
  });

  it("passes on the auth service's refusal (a revoked or lapsed session)", async () => {
    const response = await appWith({ optional: true }).app.request('/bookings', { headers: { Authorization: 'Bearer access-unknown' } });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { code: string }).code).toBe('SESSION_EXPIRED');
  });

  it('never falls back to the cookie when an Authorization header is there but is not a bearer token', async () => {
    for (const authorization of ['Basic YWRhOnB3', 'Bearer', 'Bearer access-ada extra', 'Token access-ada']) {
      const headers = { Authorization: authorization, ...cookies(access('access-ada')) };
      expect((await appWith().app.request('/bookings', { headers })).status, authorization).toBe(401);
      // Where signing in is optional the caller is anonymous, not the cookie's owner.
      expect(await (await appWith({ optional: true }).app.request('/search', { headers })).json(), authorization).toEqual({ userId: null, role: null });
    }
  });

  it('reads the access cookie, and asks a cookie-borne change for the CSRF token of this session', async () => {
    const { app, denials } = appWith();
    expect(await (await app.request('/bookings', { headers: cookies(access('access-ada')) })).json()).toMatchObject({ userId: 'user-ada' });

    const token = csrf.issue(ADA.sessionId);
    const withToken = await app.request('/bookings', { method: 'POST', headers: { ...cookies({ ...access('access-ada'), '__Host-tc_csrf': token }), 'X-CSRF-Token': token } });
    expect(withToken.status).toBe(200);
    expect(denials).toEqual([]);

    const other = csrf.issue(GRACE.sessionId);
    for (const [what, headers] of [
      ['no token', cookies(access('access-ada'))],
      ['header only', { ...cookies(access('access-ada')), 'X-CSRF-Token': token }],
      ["another session's", { ...cookies({ ...access('access-ada'), '__Host-tc_csrf': other }), 'X-CSRF-Token': other }],
    ] as const) {
      const response = await app.request('/bookings/bk%201/cancel', { method: 'POST', headers });
      expect(response.status, what).toBe(403);
      expect(((await response.json()) as { code: string }).code, what).toBe('CSRF_FAILED');
    }
    // Each refusal is audited against the caller, with the path as sent.
    expect(denials).toHaveLength(3);
    expect(denials[0]).toMatchObject({ userId: 'user-ada', ip: '203.0.113.9', event: { actor: 'user:user-ada', action: 'authz.csrf', resource: 'POST /bookings/bk%201/cancel', result: 'denied' } });
  });

  it('asks a bearer caller for no CSRF token, and none of a route that opts out', async () => {
    expect((await appWith().app.request('/bookings', { method: 'POST', headers: { Authorization: 'Bearer access-ada' } })).status).toBe(200);
    expect((await appWith({ csrfCheck: false }).app.request('/codec/decode', { method: 'POST', headers: cookies(access('access-ada')) })).status).toBe(200);
  });

  it('knows a logging-out browser by its refresh cookie when the access token has lapsed, and only where asked', async () => {
    const refresh = { '__Secure-tc_refresh': 'refresh-ada' };
    const logout = appWith({ refreshCookie: true, csrfCheck: false }).app;
    expect(await (await logout.request('/auth/logout', { method: 'POST', headers: cookies(refresh) })).json()).toMatchObject({ userId: 'user-ada' });
    expect(await (await logout.request('/auth/logout', { method: 'POST', headers: cookies({ ...refresh, ...access('access-lapsed') }) })).json()).toMatchObject({ userId: 'user-ada' });
    expect((await appWith({ csrfCheck: false }).app.request('/bookings', { method: 'POST', headers: cookies(refresh) })).status).toBe(401);
  });
});

describe('requireRole middleware', () => {
  it('hides a route from other roles (404, not 403) and audits the denial', async () => {
    const { app, denials } = appWith({ roles: ['admin', 'support'] });
    const refused = await app.request('/admin/cases', { headers: { Authorization: 'Bearer access-ada' } });
    expect(refused.status).toBe(404);
    expect(denials).toMatchObject([{ userId: 'user-ada', event: { action: 'authz.role', resource: 'GET /admin/cases', result: 'denied' } }]);
    expect((await app.request('/admin/cases', { headers: { Authorization: 'Bearer access-grace' } })).status).toBe(200);
    expect(denials).toHaveLength(1);
  });
});
