import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { User } from '../../infra/db/entities.js';
import { CookieJar, httpClient, type HttpClient } from '../support/http-client.js';
import { mailTo, TEST_PASSWORD, tokenIn } from '../support/http-account.js';
import { startStack, type Stack } from '../support/stack.js';

// A recognised device is judged by its own failures only (SECURITY.md §11). That trust is the
// password's: a device cookie from before a password change vouches for nothing, and one trusted
// device's failures lock that device, not the owner's others.
const GUARD = { baseDelayMs: 50, maxDelayMs: 100 };
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ loginGuard: GUARD });
});
afterAll(async () => {
  await stack?.stop();
});

const DEVICE = '__Host-tc_device';

async function account(password = TEST_PASSWORD) {
  const email = `device-${randomUUID()}@example.test`;
  const em = stack.orm.em.fork();
  em.create(User, { id: randomUUID(), email, name: 'Member', role: 'user', passwordHash: await stack.auth.hasher.hash(password), emailVerifiedAt: new Date() });
  await em.flush();
  return email;
}

const login = (client: HttpClient, email: string, password: string) =>
  client.call('POST', '/api/v1/auth/login', { body: { email, password, captchaToken: 'pass-token' } });

/** A fresh client address per request (the per-address limit is not under test) carrying one device cookie. */
function fromDevice(cookie: string | undefined): HttpClient {
  const jar = new CookieJar();
  if (cookie) jar.cookies.set(DEVICE, { value: cookie, attributes: ['Path=/'] });
  return httpClient(stack.apiUrl, { cookies: jar });
}

async function tenWrongPasswords(email: string, cookie: string | undefined) {
  for (let i = 0; i < 10; i += 1) expect((await login(fromDevice(cookie), email, `wrong guess ${i} abc`)).status).toBe(401);
}

async function resetPassword(email: string, newPassword: string) {
  const device = httpClient(stack.apiUrl);
  expect((await device.call('POST', '/api/v1/auth/password-reset/request', { body: { email } })).status).toBe(202);
  const token = tokenIn(await mailTo(stack.apiUrl, email, /reset/i));
  expect((await device.call('POST', '/api/v1/auth/password-reset/confirm', { body: { token, newPassword } })).status).toBe(204);
}

async function signedInDevice(email: string, password: string): Promise<string> {
  const client = httpClient(stack.apiUrl);
  expect((await login(client, email, password)).status).toBe(200);
  const cookie = client.jar.value(DEVICE);
  expect(cookie).toBeTruthy();
  return cookie!;
}

describe('recognised devices', () => {
  it("stop being recognised when the password is reset: a former holder's old cookie cannot lock the owner out", async () => {
    const email = await account();
    const formerHolder = await signedInDevice(email, TEST_PASSWORD);
    const newPassword = 'a fresh passphrase after the reset';
    await resetPassword(email, newPassword);
    const owner = await signedInDevice(email, newPassword);

    await tenWrongPasswords(email, formerHolder);
    // The old cookie counted as a stranger's: strangers are locked out, the owner's device is not.
    expect((await login(fromDevice(undefined), email, newPassword)).status).toBe(429);
    expect((await login(fromDevice(owner), email, newPassword)).status).toBe(200);
  });

  it("lock only the device whose failures they are, never the owner's other devices", async () => {
    const email = await account();
    const shared = await signedInDevice(email, TEST_PASSWORD);
    const owner = await signedInDevice(email, TEST_PASSWORD);

    await tenWrongPasswords(email, shared);
    const locked = await login(fromDevice(shared), email, TEST_PASSWORD);
    expect(locked.status).toBe(429);
    expect(((await locked.json()) as { code: string }).code).toBe('ACCOUNT_LOCKED');
    expect((await login(fromDevice(owner), email, TEST_PASSWORD)).status).toBe(200);
  });
});
