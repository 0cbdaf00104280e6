import { createHmac } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashOpaqueToken } from '../../infra/auth/opaque-tokens.js';
import { RefreshToken, Session } from '../../infra/db/entities.js';
import { eventually } from '../support/eventually.js';
import { httpClient, type HttpClient } from '../support/http-client.js';
import { mailTo, signUpOverHttp, tokenIn, TEST_PASSWORD } from '../support/http-account.js';
import { startStack, type Stack } from '../support/stack.js';

// SECURITY.md §1–6 through HTTP against the running API, with real Postgres and Redis.
let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

async function problemCode(response: Response) {
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  return ((await response.json()) as { code: string }).code;
}

/** A verified account and a browser signed in to it with cookies. */
async function browserSignedIn(): Promise<{ browser: HttpClient; email: string; userId: string }> {
  const browser = httpClient(stack.apiUrl);
  const account = await signUpOverHttp(stack.apiUrl, { headers: { 'x-forwarded-for': browser.ip } });
  const login = await browser.call('POST', '/api/v1/auth/login', { body: { email: account.email, password: TEST_PASSWORD } });
  expect(login.status).toBe(200);
  return { browser, email: account.email, userId: account.userId };
}

const me = (client: HttpClient, headers: Record<string, string> = {}) => client.call('GET', '/api/v1/users/me', { headers });

describe('cookies (SECURITY.md §1)', () => {
  it('sets __Host-/__Secure- cookies: Secure, HttpOnly (but the CSRF cookie), SameSite=Strict, no Domain', async () => {
    const { browser } = await browserSignedIn();
    const access = browser.jar.cookies.get('__Host-tc_access')!;
    const refresh = browser.jar.cookies.get('__Secure-tc_refresh')!;
    const csrf = browser.jar.cookies.get('__Host-tc_csrf')!;
    for (const cookie of [access, refresh, csrf]) {
      expect(cookie.attributes).toContain('Secure');
      expect(cookie.attributes).toContain('SameSite=Strict');
      expect(cookie.attributes.some((a) => /^domain=/i.test(a))).toBe(false);
    }
    expect(access.attributes).toContain('HttpOnly');
    expect(access.attributes).toContain('Path=/');
    expect(refresh.attributes).toContain('HttpOnly');
    expect(refresh.attributes).toContain('Path=/api/v1/auth');
    expect(csrf.attributes).not.toContain('HttpOnly'); // the page reads it to echo it
    expect((await me(browser)).status).toBe(200);
  });
});

describe('access tokens (SECURITY.md §2)', () => {
  const key = () => {
    const [first] = stack.config.auth.signingKeys;
    return { kid: first!.kid, secret: new Uint8Array(Buffer.from(first!.secretBase64url, 'base64url')) };
  };
  async function forged(overrides: { alg?: string; kid?: string; aud?: string; iss?: string; exp?: number; nbf?: number; typ?: string }, sid: string, sub: string) {
    const { kid, secret } = key();
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sid, role: 'user' })
      .setProtectedHeader({ alg: overrides.alg ?? 'HS256', kid: overrides.kid ?? kid, typ: overrides.typ ?? 'at+jwt' })
      .setSubject(sub)
      .setIssuer(overrides.iss ?? stack.config.auth.issuer)
      .setAudience(overrides.aud ?? stack.config.auth.audience)
      .setIssuedAt(now)
      .setJti(crypto.randomUUID())
      .setNotBefore(overrides.nbf ?? now)
      .setExpirationTime(overrides.exp ?? now + 600)
      .sign(secret);
  }

  it('lives 15 minutes', async () => {
    const account = await signUpOverHttp(stack.apiUrl, { headers: { 'x-forwarded-for': httpClient(stack.apiUrl).ip } });
    const [, payload] = account.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { exp: number; iat: number };
    expect(claims.exp - claims.iat).toBe(15 * 60);
  });

  it('refuses expired, not-yet-valid, alg none, another algorithm, a bad signature, wrong aud/iss and an unknown kid', async () => {
    const account = await signUpOverHttp(stack.apiUrl, { headers: { 'x-forwarded-for': httpClient(stack.apiUrl).ip } });
    const client = httpClient(stack.apiUrl);
    const good = account.accessToken;
    const { sid, sub } = JSON.parse(Buffer.from(good.split('.')[1]!, 'base64url').toString()) as { sid: string; sub: string };
    expect((await me(client, { authorization: `Bearer ${await forged({}, sid, sub)}` })).status).toBe(200); // the forger is right otherwise

    const now = Math.floor(Date.now() / 1000);
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const hs512 = createHmac('sha512', key().secret).update(`${b64({ alg: 'HS512', kid: key().kid, typ: 'at+jwt' })}.${payload}`).digest('base64url');
    const bad = {
      expired: await forged({ exp: now - 60, nbf: now - 1000 }, sid, sub),
      notYetValid: await forged({ nbf: now + 600, exp: now + 1200 }, sid, sub),
      algNone: `${b64({ alg: 'none', typ: 'at+jwt', kid: key().kid })}.${payload}.`,
      otherAlgorithm: `${b64({ alg: 'HS512', kid: key().kid, typ: 'at+jwt' })}.${payload}.${hs512}`,
      badSignature: `${header}.${payload}.${signature.slice(0, -4)}${signature.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`,
      wrongAudience: await forged({ aud: 'someone-else' }, sid, sub),
      wrongIssuer: await forged({ iss: 'https://evil.example' }, sid, sub),
      unknownKid: await forged({ kid: 'retired-key' }, sid, sub),
      refreshTokenAsAccess: account.refreshToken,
    };
    for (const [name, token] of Object.entries(bad)) {
      const response = await me(client, { authorization: `Bearer ${token}` });
      expect({ name, status: response.status }).toEqual({ name, status: 401 });
      expect(await problemCode(response)).toBe('UNAUTHENTICATED');
    }
  });

  it('refuses an access token where a refresh token belongs', async () => {
    const account = await signUpOverHttp(stack.apiUrl, { headers: { 'x-forwarded-for': httpClient(stack.apiUrl).ip } });
    const response = await httpClient(stack.apiUrl).call('POST', '/api/v1/auth/refresh', { body: { refreshToken: account.accessToken, tokenDelivery: 'body' } });
    expect(response.status).toBe(400); // not even shaped like one of ours
    const shaped = account.accessToken.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 43);
    const again = await httpClient(stack.apiUrl).call('POST', '/api/v1/auth/refresh', { body: { refreshToken: shaped, tokenDelivery: 'body' } });
    expect(again.status).toBe(401);
  });
});

describe('refresh tokens (SECURITY.md §3)', () => {
  it('are opaque 256-bit values stored only as hashes, rotated on use, living at most 7 days', async () => {
    const account = await signUpOverHttp(stack.apiUrl, { headers: { 'x-forwarded-for': httpClient(stack.apiUrl).ip } });
    expect(account.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const em = stack.orm.em.fork();
    const rows = await em.find(RefreshToken, { session: { user: account.userId } }, { populate: ['session'] });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.tokenHash).not.toContain(account.refreshToken);
    expect(JSON.stringify(rows)).not.toContain(account.refreshToken);
    const lifetime = rows[0]!.expiresAt.getTime() - rows[0]!.createdAt.getTime();
    expect(lifetime).toBeLessThanOrEqual(7 * 24 * 3600_000 + 1000);
    expect(rows[0]!.session.expiresAt.getTime()).toBe(rows[0]!.expiresAt.getTime());

    const client = httpClient(stack.apiUrl);
    const rotated = await client.call('POST', '/api/v1/auth/refresh', { body: { refreshToken: account.refreshToken, tokenDelivery: 'body' } });
    expect(rotated.status).toBe(200);
    const next = (await rotated.json()) as { refreshToken: string; accessToken: string };
    expect(next.refreshToken).not.toBe(account.refreshToken);
    expect((await me(client, { authorization: `Bearer ${next.accessToken}` })).status).toBe(200);
  });

  it('revokes the whole session when a spent refresh token comes back', async () => {
    const account = await signUpOverHttp(stack.apiUrl, { headers: { 'x-forwarded-for': httpClient(stack.apiUrl).ip } });
    const client = httpClient(stack.apiUrl);
    const first = await client.call('POST', '/api/v1/auth/refresh', { body: { refreshToken: account.refreshToken, tokenDelivery: 'body' } });
    const fresh = (await first.json()) as { refreshToken: string; accessToken: string };
    // Spent before the grace a second tab gets (test/integration/session-integrity.test.ts).
    await stack.orm.em.fork().nativeUpdate(RefreshToken, { tokenHash: hashOpaqueToken(account.refreshToken) }, { spentAt: new Date(Date.now() - 60_000) });
    const replay = await client.call('POST', '/api/v1/auth/refresh', { body: { refreshToken: account.refreshToken, tokenDelivery: 'body' } });
    expect(replay.status).toBe(401);
    // Both the thief's copy and the owner's newest tokens are dead now.
    expect((await me(client, { authorization: `Bearer ${fresh.accessToken}` })).status).toBe(401);
    const owner = await client.call('POST', '/api/v1/auth/refresh', { body: { refreshToken: fresh.refreshToken, tokenDelivery: 'body' } });
    expect(owner.status).toBe(401);
    const session = await stack.orm.em.fork().findOneOrFail(Session, { user: account.userId });
    expect(session.revokedReason).toBe('refresh-reuse');
  });

  it('rotates the refresh cookie of a browser, with its CSRF token', async () => {
    const { browser } = await browserSignedIn();
    const before = browser.jar.value('__Secure-tc_refresh');
    const withoutCsrf = await browser.call('POST', '/api/v1/auth/refresh');
    expect(withoutCsrf.status).toBe(403);
    const refreshed = await browser.call('POST', '/api/v1/auth/refresh', { headers: browser.csrf() });
    expect(refreshed.status).toBe(200);
    expect(browser.jar.value('__Secure-tc_refresh')).not.toBe(before);
    expect((await me(browser)).status).toBe(200);
  });
});

describe('sessions (SECURITY.md §4–6)', () => {
  it('issues a new session id at every login', async () => {
    const { browser, email } = await browserSignedIn();
    const first = await (await browser.call('GET', '/api/v1/auth/sessions')).json() as { sessions: Array<{ id: string; current: boolean }> };
    await browser.call('POST', '/api/v1/auth/login', { body: { email, password: TEST_PASSWORD } });
    const second = await (await browser.call('GET', '/api/v1/auth/sessions')).json() as { sessions: Array<{ id: string; current: boolean }> };
    const currentBefore = first.sessions.find((s) => s.current)!.id;
    const currentAfter = second.sessions.find((s) => s.current)!.id;
    expect(currentAfter).not.toBe(currentBefore);
  });

  it('stops the access token at once on logout, before it expires', async () => {
    const { browser } = await browserSignedIn();
    const token = browser.jar.value('__Host-tc_access')!;
    const logout = await browser.call('POST', '/api/v1/auth/logout', { headers: browser.csrf() });
    expect(logout.status).toBe(204);
    expect(browser.jar.value('__Host-tc_access')).toBeUndefined(); // cookies cleared
    const replayed = await httpClient(stack.apiUrl).call('GET', '/api/v1/users/me', { headers: { cookie: `__Host-tc_access=${token}` } });
    expect(replayed.status).toBe(401);
  });

  it('stops every session at once on password reset', async () => {
    const { browser, email } = await browserSignedIn();
    const phone = httpClient(stack.apiUrl);
    const mobile = (await (await phone.call('POST', '/api/v1/auth/login', { body: { email, password: TEST_PASSWORD, tokenDelivery: 'body' } })).json()) as { accessToken: string };
    expect((await me(phone, { authorization: `Bearer ${mobile.accessToken}` })).status).toBe(200);

    expect((await phone.call('POST', '/api/v1/auth/password-reset/request', { body: { email } })).status).toBe(202);
    const token = tokenIn(await mailTo(stack.apiUrl, email, /reset/i));
    const newPassword = 'a brand new passphrase 77';
    expect((await phone.call('POST', '/api/v1/auth/password-reset/confirm', { body: { token, newPassword } })).status).toBe(204);

    expect((await me(browser)).status).toBe(401);
    expect((await me(phone, { authorization: `Bearer ${mobile.accessToken}` })).status).toBe(401);
    // The token worked once; the new password works, the old one does not.
    expect((await phone.call('POST', '/api/v1/auth/password-reset/confirm', { body: { token, newPassword: 'yet another passphrase 88' } })).status).toBe(400);
    expect((await phone.call('POST', '/api/v1/auth/login', { body: { email, password: TEST_PASSWORD } })).status).toBe(401);
    expect((await phone.call('POST', '/api/v1/auth/login', { body: { email, password: newPassword } })).status).toBe(200);
  });

  it('lists sessions and revokes one device without touching the others', async () => {
    const { browser, email } = await browserSignedIn();
    const laptop = httpClient(stack.apiUrl);
    await laptop.call('POST', '/api/v1/auth/login', { body: { email, password: TEST_PASSWORD }, headers: { 'user-agent': 'laptop' } });
    const listed = (await (await browser.call('GET', '/api/v1/auth/sessions')).json()) as { sessions: Array<{ id: string; device: string; current: boolean; ip: string }> };
    // Signing up (verify-email), this browser and the laptop.
    expect(listed.sessions).toHaveLength(3);
    expect(listed.sessions.filter((s) => s.current)).toHaveLength(1);
    const laptopSession = listed.sessions.find((s) => s.device === 'laptop')!;
    expect(laptopSession.current).toBe(false);
    expect(laptopSession.ip).toBe(laptop.ip);

    expect((await browser.call('DELETE', `/api/v1/auth/sessions/${laptopSession.id}`, { headers: browser.csrf() })).status).toBe(204);
    expect((await me(laptop)).status).toBe(401);
    expect((await me(browser)).status).toBe(200);
    // Someone else's session is not yours to revoke: it does not exist for you.
    const stranger = await browserSignedIn();
    const theirs = (await (await stranger.browser.call('GET', '/api/v1/auth/sessions')).json()) as { sessions: Array<{ id: string }> };
    expect((await browser.call('DELETE', `/api/v1/auth/sessions/${theirs.sessions[0]!.id}`, { headers: browser.csrf() })).status).toBe(404);
    expect((await me(stranger.browser)).status).toBe(200);
  });
});

describe('inactivity (SECURITY.md §5)', () => {
  let idle: Stack;
  beforeAll(async () => {
    idle = await startStack({ env: { SESSION_IDLE_TIMEOUT_SECONDS: '2' } });
  });
  afterAll(async () => {
    await idle?.stop();
  });

  it('ends a session after the configured idle time with SESSION_EXPIRED, but not while it is used', async () => {
    const account = await signUpOverHttp(idle.apiUrl, { headers: { 'x-forwarded-for': httpClient(idle.apiUrl).ip } });
    const client = httpClient(idle.apiUrl);
    const auth = { authorization: `Bearer ${account.accessToken}` };
    for (let i = 0; i < 4; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect((await me(client, auth)).status).toBe(200); // 4 s of use, each gap under the limit
    }
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const expired = await me(client, auth);
    expect(expired.status).toBe(401);
    expect(await problemCode(expired)).toBe('SESSION_EXPIRED');
    // The refresh token cannot bring the idle session back either.
    const refreshed = await client.call('POST', '/api/v1/auth/refresh', { body: { refreshToken: account.refreshToken, tokenDelivery: 'body' } });
    expect(refreshed.status).toBe(401);
  });

  it('survives a Redis that lost its activity stamps, reading the session from Postgres', async () => {
    const account = await signUpOverHttp(idle.apiUrl, { headers: { 'x-forwarded-for': httpClient(idle.apiUrl).ip } });
    const session = await idle.orm.em.fork().findOneOrFail(Session, { user: account.userId });
    await idle.redis.del(`sess:${session.id}`);
    expect((await me(httpClient(idle.apiUrl), { authorization: `Bearer ${account.accessToken}` })).status).toBe(200);
    await eventually(() => idle.redis.exists(`sess:${session.id}`), (n) => n === 1, { what: 'the stamp to be restored' });
  });
});
