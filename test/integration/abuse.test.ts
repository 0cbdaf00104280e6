import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { User } from '../../infra/db/entities.js';
import { httpClient, type HttpClient } from '../support/http-client.js';
import { mailTo, TEST_PASSWORD, tokenIn } from '../support/http-account.js';
import { signIn } from '../support/sign-in.js';
import { startStack, variantApp, type Stack } from '../support/stack.js';

// SECURITY.md §10–13 through HTTP, with real Redis limits. Progressive delays are shortened
// (200 ms steps instead of 1 s) so the walk to the lock takes seconds; the thresholds are those of docs/api.md "Authentication".
const GUARD = { baseDelayMs: 200, maxDelayMs: 500 };
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ loginGuard: GUARD });
});
afterAll(async () => {
  await stack?.stop();
});

const body = async (response: Response) => (await response.json()) as Record<string, unknown>;
const unknownEmail = () => `nobody-${randomUUID()}@example.test`;

/** A verified account straight in the database (its password hashed by the API's own hasher). */
async function account(password = TEST_PASSWORD) {
  const email = `member-${randomUUID()}@example.test`;
  const em = stack.orm.em.fork();
  em.create(User, { id: randomUUID(), email, name: 'Member', role: 'user', passwordHash: await stack.auth.hasher.hash(password), emailVerifiedAt: new Date() });
  await em.flush();
  return email;
}

const login = (client: HttpClient, email: string, password: string, extra: Record<string, unknown> = {}) =>
  client.call('POST', '/api/v1/auth/login', { body: { email, password, ...extra } });

async function expect429(response: Response) {
  expect(response.status).toBe(429);
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
}

describe('per-IP and per-user limits (SECURITY.md §10)', () => {
  it('allows 5 failed logins per 15 minutes per IP, then 429 with Retry-After', async () => {
    const client = httpClient(stack.apiUrl);
    for (let i = 0; i < 5; i += 1) expect((await login(client, unknownEmail(), 'wrong password 123')).status).toBe(401);
    await expect429(await login(client, unknownEmail(), 'wrong password 123'));
    // Another address is not affected.
    expect((await login(httpClient(stack.apiUrl), unknownEmail(), 'wrong password 123')).status).toBe(401);
  });

  it('allows 3 password-reset requests per hour per IP', async () => {
    const client = httpClient(stack.apiUrl);
    for (let i = 0; i < 3; i += 1) expect((await client.call('POST', '/api/v1/auth/password-reset/request', { body: { email: unknownEmail() } })).status).toBe(202);
    await expect429(await client.call('POST', '/api/v1/auth/password-reset/request', { body: { email: unknownEmail() } }));
  });

  it('allows 10 signups per day per IP, with RateLimit headers', async () => {
    const client = httpClient(stack.apiUrl);
    const signup = () => client.call('POST', '/api/v1/auth/signup', { body: { email: unknownEmail(), password: 'a long enough passphrase 9', name: 'Ada' } });
    for (let i = 0; i < 10; i += 1) {
      const response = await signup();
      expect(response.status).toBe(202);
      expect(response.headers.get('ratelimit-limit')).toBe('10');
      expect(response.headers.get('ratelimit-remaining')).toBe(String(9 - i));
    }
    await expect429(await signup());
    // Rejections are counted for operators, by limit.
    const metrics = await (await stack.app.request('/metrics', { headers: { authorization: `Bearer ${stack.config.metrics.token}` } })).text();
    expect(metrics).toMatch(/http_rate_limited_total\{limit="signup"\} [1-9]/);
  });

  it('allows a user 20 booking requests per day and 10 booking changes per hour', async () => {
    const user = await signIn(stack);
    const headers = { ...user.auth, 'content-type': 'application/json', 'idempotency-key': randomUUID() };
    // Invalid bodies count too: the limit is on requests, before any work is done.
    for (let i = 0; i < 20; i += 1) expect((await stack.app.request('/api/v1/bookings', { method: 'POST', headers, body: '{}' })).status).toBe(400);
    await expect429(await stack.app.request('/api/v1/bookings', { method: 'POST', headers, body: '{}' }));
    // Reading is not limited by it, and another user is not affected.
    expect((await stack.app.request(`/api/v1/bookings/${randomUUID()}`, { headers: user.auth })).status).toBe(404);
    const other = await signIn(stack);
    expect((await stack.app.request('/api/v1/bookings', { method: 'POST', headers: { ...headers, ...other.auth }, body: '{}' })).status).toBe(400);

    const cancel = () => stack.app.request(`/api/v1/bookings/${randomUUID()}/cancel`, { method: 'POST', headers: { ...user.auth, 'idempotency-key': randomUUID() } });
    for (let i = 0; i < 10; i += 1) expect((await cancel()).status).toBe(404);
    await expect429(await cancel());
  });

  it('allows 100 searches a minute per user (per IP when anonymous)', async () => {
    const user = await signIn(stack);
    const search = (headers: Record<string, string>) =>
      stack.app.request('/api/v1/search/flights?origin=JFK&destination=LHR&departureDate=2027-05-01&adults=1', { headers });
    for (let i = 0; i < 100; i += 1) expect((await search(user.auth)).status).toBe(200);
    await expect429(await search(user.auth));
    expect((await search((await signIn(stack)).auth)).status).toBe(200);
  });
});

describe('per-account login protection (SECURITY.md §11)', () => {
  it('delays after 3 failures, asks for a CAPTCHA after 5 and locks after 10, whichever IPs they come from', async () => {
    const email = await account();
    const attempt = async (extra: Record<string, unknown> = {}, password = 'not the password 1') => {
      const started = performance.now();
      const response = await login(httpClient(stack.apiUrl), email, password, extra);
      return { response, elapsed: performance.now() - started, code: (await body(response)).code as string | undefined };
    };
    for (let i = 0; i < 3; i += 1) expect((await attempt()).code).toBe('INVALID_CREDENTIALS');
    const delayed = await attempt();
    expect(delayed.code).toBe('INVALID_CREDENTIALS');
    expect(delayed.elapsed).toBeGreaterThanOrEqual(GUARD.baseDelayMs); // the progressive delay is served
    expect((await attempt()).code).toBe('INVALID_CREDENTIALS'); // 5 failures now

    expect((await attempt()).code).toBe('CAPTCHA_REQUIRED');
    expect((await attempt({ captchaToken: 'fail-me' })).code).toBe('CAPTCHA_REQUIRED');
    // Even the right password needs the CAPTCHA now.
    expect((await attempt({}, TEST_PASSWORD)).code).toBe('CAPTCHA_REQUIRED');
    for (let i = 5; i < 10; i += 1) expect((await attempt({ captchaToken: 'pass-token' })).code).toBe('INVALID_CREDENTIALS');

    const locked = await attempt({ captchaToken: 'pass-token' }, TEST_PASSWORD);
    expect(locked.response.status).toBe(429);
    expect(locked.code).toBe('ACCOUNT_LOCKED');
    expect(Number(locked.response.headers.get('retry-after'))).toBeGreaterThan(25 * 60);
  });

  it('keeps a stranger from locking the owner out: a recognised device still signs in, and the reset link lifts the lock', async () => {
    const email = await account();
    const owner = httpClient(stack.apiUrl);
    expect((await login(owner, email, TEST_PASSWORD)).status).toBe(200); // the owner's device is now recognised
    expect(owner.jar.value('__Host-tc_device')).toBeTruthy();

    for (let i = 0; i < 10; i += 1) {
      await login(httpClient(stack.apiUrl), email, 'stranger guess 123', { captchaToken: 'pass-token' });
    }
    expect((await body(await login(httpClient(stack.apiUrl), email, TEST_PASSWORD, { captchaToken: 'pass-token' }))).code).toBe('ACCOUNT_LOCKED');
    // The owner's device is not locked, slowed or challenged by the stranger's failures.
    expect((await login(owner, email, TEST_PASSWORD)).status).toBe(200);

    // From a new device, the mailed reset link lifts the lock.
    const newDevice = httpClient(stack.apiUrl);
    expect((await newDevice.call('POST', '/api/v1/auth/password-reset/request', { body: { email } })).status).toBe(202);
    const token = tokenIn(await mailTo(stack.apiUrl, email, /reset/i));
    const newPassword = 'a fresh passphrase after reset';
    expect((await newDevice.call('POST', '/api/v1/auth/password-reset/confirm', { body: { token, newPassword } })).status).toBe(204);
    expect((await login(newDevice, email, newPassword)).status).toBe(200);
  });
});

describe('trusted proxies (SECURITY.md §12)', () => {
  let direct: ServerType;
  let directUrl: string;
  beforeAll(async () => {
    // The same API deployed with no trusted proxy: X-Forwarded-For is the client's to write, so it is ignored.
    const app = variantApp(stack, { config: { ...stack.config, auth: { ...stack.config.auth, trustedProxies: [] } } });
    direct = await new Promise<ServerType>((resolve) => {
      const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(server));
    });
    directUrl = `http://127.0.0.1:${(direct.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => direct?.close(resolve));
  });

  it('counts X-Forwarded-For only from a trusted proxy; a client cannot pick its own rate-limit key', async () => {
    // Behind the trusted proxy, two clients are two buckets.
    const a = httpClient(stack.apiUrl);
    for (let i = 0; i < 5; i += 1) await login(a, unknownEmail(), 'wrong password 123');
    await expect429(await login(a, unknownEmail(), 'wrong password 123'));
    expect((await login(httpClient(stack.apiUrl), unknownEmail(), 'wrong password 123')).status).toBe(401);

    // Straight from an untrusted peer, a new X-Forwarded-For per request changes nothing.
    for (let i = 0; i < 5; i += 1) expect((await login(httpClient(directUrl), unknownEmail(), 'wrong password 123')).status).toBe(401);
    await expect429(await login(httpClient(directUrl), unknownEmail(), 'wrong password 123'));
  });
});

describe('no account enumeration (SECURITY.md §13)', () => {
  /** What a client can compare: status, body without the request id, and the header names. */
  async function observable(response: Response) {
    const { requestId, ...rest } = await body(response);
    if (response.status >= 400) expect(requestId).toBeTruthy(); // differs per request by design
    const names = [...response.headers.keys()].filter((h) => !['date', 'x-request-id', 'content-length', 'ratelimit-remaining', 'ratelimit-reset', 'set-cookie'].includes(h)).sort();
    return { status: response.status, body: rest, headers: names };
  }

  it('gives byte-identical login, signup and reset answers for known and unknown addresses', async () => {
    const known = await account();
    const unknown = unknownEmail();
    const pair = async (call: (email: string) => Promise<Response>) => [await observable(await call(known)), await observable(await call(unknown))];

    const [loginKnown, loginUnknown] = await pair((email) => login(httpClient(stack.apiUrl), email, 'wrong password 123'));
    expect(loginKnown).toEqual(loginUnknown);
    expect(loginKnown!.body.code).toBe('INVALID_CREDENTIALS');

    const [signupKnown, signupUnknown] = await pair((email) =>
      httpClient(stack.apiUrl).call('POST', '/api/v1/auth/signup', { body: { email, password: 'a long enough passphrase 9', name: 'Ada' } }));
    expect(signupKnown).toEqual(signupUnknown);
    expect(signupKnown!.status).toBe(202);

    const [resetKnown, resetUnknown] = await pair((email) => httpClient(stack.apiUrl).call('POST', '/api/v1/auth/password-reset/request', { body: { email } }));
    expect(resetKnown).toEqual(resetUnknown);
    expect(resetKnown!.status).toBe(202);

    // The account guard treats unknown addresses exactly like known ones (CAPTCHA after 5).
    for (const email of [known, unknown]) {
      for (let i = 0; i < 5; i += 1) await login(httpClient(stack.apiUrl), email, 'wrong password 123');
    }
    const [captchaKnown, captchaUnknown] = await pair((email) => login(httpClient(stack.apiUrl), email, 'wrong password 123'));
    expect(captchaKnown).toEqual(captchaUnknown);
    expect(captchaKnown!.body.code).toBe('CAPTCHA_REQUIRED');
  });

  it('takes the same time for known and unknown addresses (dummy hash), compared as distributions', async () => {
    const SAMPLES = 25;
    const knownEmails = await Promise.all(Array.from({ length: SAMPLES }, () => account()));
    const timed = async (call: () => Promise<Response>) => {
      const started = performance.now();
      const response = await call();
      await response.arrayBuffer();
      return performance.now() - started;
    };
    const series: Record<string, { known: number[]; unknown: number[] }> = {
      login: { known: [], unknown: [] },
      signup: { known: [], unknown: [] },
      reset: { known: [], unknown: [] },
    };
    const calls = {
      login: (email: string) => login(httpClient(stack.apiUrl), email, 'wrong password 123'),
      signup: (email: string) => httpClient(stack.apiUrl).call('POST', '/api/v1/auth/signup', { body: { email, password: 'a long enough passphrase 9', name: 'Ada' } }),
      reset: (email: string) => httpClient(stack.apiUrl).call('POST', '/api/v1/auth/password-reset/request', { body: { email } }),
    };
    // Interleaved, so drift in the machine's load falls on both sides alike.
    for (let i = 0; i < SAMPLES; i += 1) {
      for (const [name, call] of Object.entries(calls)) {
        series[name]!.known.push(await timed(() => call(knownEmails[i]!)));
        series[name]!.unknown.push(await timed(() => call(unknownEmail())));
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    for (const [name, { known, unknown }] of Object.entries(series)) {
      const ratio = median(known) / median(unknown);
      process.stdout.write(`[timing] ${name}: median known ${median(known).toFixed(1)} ms, unknown ${median(unknown).toFixed(1)} ms, ratio ${ratio.toFixed(2)}\n`);
      // What an attacker measures: the medians' ratio. A skipped password hash alone is ×2 or more.
      expect({ name, ratio: Number(ratio.toFixed(2)), similar: ratio > 0.67 && ratio < 1.5 }).toMatchObject({ name, similar: true });
    }
  });
});
