import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpClient, type HttpClient } from '../support/http-client.js';
import { signUpOverHttp, TEST_PASSWORD } from '../support/http-account.js';
import { startStack, type Stack } from '../support/stack.js';

// POST /auth/logout from a browser whose access token has lapsed: the refresh cookie (sent on
// /api/v1/auth) still names the session, so logging out must end it (web client review, 2026-12-08).
let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const ACCESS = '__Host-tc_access';
const REFRESH = '__Secure-tc_refresh';
const CSRF = '__Host-tc_csrf';

async function browserSignedIn(): Promise<HttpClient> {
  const browser = httpClient(stack.apiUrl);
  const account = await signUpOverHttp(stack.apiUrl, { headers: { 'x-forwarded-for': browser.ip } });
  expect((await browser.call('POST', '/api/v1/auth/login', { body: { email: account.email, password: TEST_PASSWORD } })).status).toBe(200);
  return browser;
}

/** The names of the cookies a response clears (Max-Age=0). */
const cleared = (response: Response) =>
  response.headers
    .getSetCookie()
    .filter((line) => /;\s*max-age=0/i.test(line))
    .map((line) => line.split('=')[0])
    .sort();

/** A browser holding only these cookies of `from`'s (as it would after the others lapsed). */
function holding(from: HttpClient, names: string[]): HttpClient {
  const copy = httpClient(stack.apiUrl, { ip: from.ip });
  for (const name of names) copy.jar.cookies.set(name, from.jar.cookies.get(name)!);
  return copy;
}

const code = async (response: Response) => ((await response.json()) as { code: string }).code;

describe('logout (docs/api.md "Authentication")', () => {
  it('ends the session named by the refresh cookie when the access token has lapsed, and clears the cookies', async () => {
    const browser = await browserSignedIn();
    const access = browser.jar.value(ACCESS)!;
    browser.jar.cookies.delete(ACCESS);
    const kept = holding(browser, [REFRESH, CSRF]);

    const logout = await browser.call('POST', '/api/v1/auth/logout', { headers: browser.csrf() });
    expect(logout.status, 'logout with the refresh cookie and CSRF token').toBe(204);
    expect(cleared(logout)).toEqual([ACCESS, REFRESH, CSRF].sort());

    // The session is over: neither its refresh token nor its old access token works.
    expect((await kept.call('POST', '/api/v1/auth/refresh', { headers: kept.csrf() })).status).toBe(401);
    const me = await fetch(`${stack.apiUrl}/api/v1/users/me`, { headers: { cookie: `${ACCESS}=${access}`, 'x-forwarded-for': browser.ip } });
    expect(me.status).toBe(401);
  });

  it('still needs the CSRF token bound to that session: without it the session lives', async () => {
    const browser = await browserSignedIn();
    browser.jar.cookies.delete(ACCESS);
    const missing = await browser.call('POST', '/api/v1/auth/logout');
    expect(missing.status).toBe(403);
    expect(await code(missing)).toBe('CSRF_FAILED');
    const forged = await browser.call('POST', '/api/v1/auth/logout', { headers: { 'x-csrf-token': 'forged.value' } });
    expect(forged.status).toBe(403);
    expect(cleared(forged)).toEqual([]);
    expect((await browser.call('POST', '/api/v1/auth/refresh', { headers: browser.csrf() })).status).toBe(200);
  });

  it('clears cookies that name no live session, and says there was none', async () => {
    const browser = await browserSignedIn();
    const stale = holding(browser, [ACCESS, REFRESH, CSRF]);
    expect((await browser.call('POST', '/api/v1/auth/logout', { headers: browser.csrf() })).status).toBe(204);
    const again = await stale.call('POST', '/api/v1/auth/logout', { headers: stale.csrf() });
    expect(again.status).toBe(401);
    expect(cleared(again)).toEqual([ACCESS, REFRESH, CSRF].sort());
  });

  it('signs a bearer client out as before', async () => {
    const mobile = await signUpOverHttp(stack.apiUrl);
    const response = await httpClient(stack.apiUrl).call('POST', '/api/v1/auth/logout', { headers: mobile.auth });
    expect(response.status).toBe(204);
    expect((await httpClient(stack.apiUrl).call('GET', '/api/v1/users/me', { headers: mobile.auth })).status).toBe(401);
  });
});
