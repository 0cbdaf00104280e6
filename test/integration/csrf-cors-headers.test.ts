import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpClient, type HttpClient } from '../support/http-client.js';
import { signUpOverHttp, TEST_PASSWORD } from '../support/http-account.js';
import { startStack, type Stack } from '../support/stack.js';

// SECURITY.md §7–9 through HTTP against the running API.
const ALLOWED = 'https://app.travelconnect.test';
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { CORS_ORIGINS: `${ALLOWED},https://admin.travelconnect.test` } });
});
afterAll(async () => {
  await stack?.stop();
});

async function browserSignedIn(): Promise<HttpClient> {
  const browser = httpClient(stack.apiUrl);
  const account = await signUpOverHttp(stack.apiUrl, { headers: { 'x-forwarded-for': browser.ip } });
  expect((await browser.call('POST', '/api/v1/auth/login', { body: { email: account.email, password: TEST_PASSWORD } })).status).toBe(200);
  return browser;
}

const rename = { name: 'Grace Hopper' };
const code = async (response: Response) => ((await response.json()) as { code: string }).code;

describe('CSRF (SECURITY.md §7)', () => {
  it('refuses a cookie-authenticated change without a valid X-CSRF-Token, and accepts it with one', async () => {
    const browser = await browserSignedIn();
    const missing = await browser.call('PATCH', '/api/v1/users/me', { body: rename });
    expect(missing.status).toBe(403);
    expect(await code(missing)).toBe('CSRF_FAILED');
    const wrong = await browser.call('PATCH', '/api/v1/users/me', { body: rename, headers: { 'x-csrf-token': 'forged.value' } });
    expect(wrong.status).toBe(403);
    const ok = await browser.call('PATCH', '/api/v1/users/me', { body: rename, headers: browser.csrf() });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { name: string }).name).toBe('Grace Hopper');
  });

  it('binds the token to its session: another session\'s valid token and cookie do not pass', async () => {
    const alice = await browserSignedIn();
    const mallory = await browserSignedIn();
    // Mallory plants her own CSRF cookie and header in Alice's browser.
    const planted = mallory.jar.value('__Host-tc_csrf')!;
    alice.jar.cookies.set('__Host-tc_csrf', { value: planted, attributes: [] });
    const response = await alice.call('PATCH', '/api/v1/users/me', { body: rename, headers: { 'x-csrf-token': planted } });
    expect(response.status).toBe(403);
  });

  it('needs no CSRF token from a bearer client, which a browser cannot forge', async () => {
    const mobile = httpClient(stack.apiUrl);
    const account = await signUpOverHttp(stack.apiUrl, { headers: { 'x-forwarded-for': mobile.ip } });
    const response = await mobile.call('PATCH', '/api/v1/users/me', { body: rename, headers: { authorization: `Bearer ${account.accessToken}` } });
    expect(response.status).toBe(200);
  });

  it('refuses a foreign Origin or Sec-Fetch-Site: cross-site for every content type, text/plain included', async () => {
    const browser = await browserSignedIn();
    const cases: Array<Record<string, string>> = [
      { origin: 'https://evil.example', 'content-type': 'text/plain' },
      { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      { origin: 'https://evil.example', 'content-type': 'multipart/form-data; boundary=x' },
      { origin: 'null', 'content-type': 'text/plain' },
      { 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain' },
      { 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
    ];
    for (const headers of cases) {
      const response = await browser.call('PATCH', '/api/v1/users/me', { body: JSON.stringify(rename), headers: { ...headers, ...browser.csrf() } });
      expect({ headers, status: response.status }).toEqual({ headers, status: 403 });
      expect(await code(response)).toBe('CSRF_FAILED');
    }
    // Even logging in is refused from another site (login CSRF).
    const login = await browser.call('POST', '/api/v1/auth/login', { body: { email: 'a@b.test', password: 'x' }, headers: { 'sec-fetch-site': 'cross-site' } });
    expect(login.status).toBe(403);
    // The allow-listed front-end passes.
    const allowed = await browser.call('PATCH', '/api/v1/users/me', { body: rename, headers: { origin: ALLOWED, 'sec-fetch-site': 'same-site', ...browser.csrf() } });
    expect(allowed.status).toBe(200);
  });
});

describe('CORS (SECURITY.md §8)', () => {
  it('answers allow-listed origins only, with credentials; never `null`, never a stranger', async () => {
    const client = httpClient(stack.apiUrl);
    const preflight = (origin: string) =>
      client.call('OPTIONS', '/api/v1/auth/login', { headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-csrf-token' } });

    const ok = await preflight(ALLOWED);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/X-CSRF-Token/i);

    for (const origin of ['https://evil.example', 'null', `${ALLOWED}.evil.example`, 'http://app.travelconnect.test']) {
      const refused = await preflight(origin);
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      expect(refused.headers.get('access-control-allow-credentials')).toBeNull();
    }
    const simple = await client.call('GET', '/api/v1/search/flights?origin=JFK&destination=LHR&departureDate=2027-03-01&adults=1', { headers: { origin: ALLOWED } });
    expect(simple.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(simple.headers.get('vary')).toMatch(/Origin/);
  });
});

describe('security headers (SECURITY.md §9)', () => {
  it('sends HSTS, nosniff, a locked-down CSP on every response and no-store on authenticated ones', async () => {
    const browser = await browserSignedIn();
    const responses = [
      await browser.call('GET', '/api/v1/users/me'),
      await browser.call('GET', '/api/v1/auth/sessions'),
      await browser.call('GET', '/healthz'),
      await browser.call('GET', '/api/v1/nowhere'),
    ];
    for (const response of responses) {
      expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    }
    expect(responses[0]!.headers.get('cache-control')).toBe('no-store');
    expect(responses[1]!.headers.get('cache-control')).toBe('no-store');
  });
});
