import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEntry, User } from '../../infra/db/entities.js';
import { httpClient, randomClientIp } from '../support/http-client.js';
import { TEST_PASSWORD } from '../support/http-account.js';
import { startStack, type Stack } from '../support/stack.js';

// SECURITY.md §32 and §36: every password check (login, account deletion) meets the same limits
// in parallel as in sequence, and its failures are audited. Delays are shortened; thresholds are those of docs/api.md "Authentication".
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ loginGuard: { baseDelayMs: 50, maxDelayMs: 100 } });
});
afterAll(async () => {
  await stack?.stop();
});

/** A confirmed account straight in the database, its password hashed by the API's own hasher. */
async function account() {
  const email = `member-${randomUUID()}@example.test`;
  const id = randomUUID();
  const em = stack.orm.em.fork();
  em.create(User, { id, email, name: 'Member', role: 'user', passwordHash: await stack.auth.hasher.hash(TEST_PASSWORD), emailVerifiedAt: new Date() });
  await em.flush();
  return { email, id };
}

const codes = async (responses: Response[]) => Promise.all(responses.map(async (r) => `${r.status} ${((await r.json()) as { code: string }).code}`));
const tally = (seen: string[]) => seen.reduce<Record<string, number>>((all, s) => ({ ...all, [s]: (all[s] ?? 0) + 1 }), {});
const wrongLogin = (email: string, ip: string) =>
  httpClient(stack.apiUrl, { ip }).call('POST', '/api/v1/auth/login', { body: { email, password: `wrong guess ${randomUUID()}` } });

describe('login limits under concurrency (SECURITY.md §32)', () => {
  it('judges at most 5 of 30 parallel wrong passwords for one account from one address', async () => {
    const { email } = await account();
    const ip = randomClientIp();
    const seen = tally(await codes(await Promise.all(Array.from({ length: 30 }, () => wrongLogin(email, ip)))));
    expect(seen['401 INVALID_CREDENTIALS'] ?? 0).toBeLessThanOrEqual(5);
    expect(Object.keys(seen).every((s) => /^(401 INVALID_CREDENTIALS|429 RATE_LIMITED|401 CAPTCHA_REQUIRED|429 ACCOUNT_LOCKED|\d+ CAPTCHA_REQUIRED)$/.test(s))).toBe(true);
  });

  it('judges at most as many parallel guesses from 30 addresses as sequential ones before the CAPTCHA', async () => {
    const { email } = await account();
    const seen = tally(await codes(await Promise.all(Array.from({ length: 30 }, () => wrongLogin(email, randomClientIp())))));
    // Sequentially, the 6th attempt already needs a CAPTCHA (docs/api.md "Authentication": CAPTCHA after 5 failures).
    expect(seen['401 INVALID_CREDENTIALS'] ?? 0).toBeLessThanOrEqual(5);
    expect((seen['401 INVALID_CREDENTIALS'] ?? 0) + Object.entries(seen).filter(([s]) => s.endsWith('CAPTCHA_REQUIRED')).reduce((n, [, c]) => n + c, 0)).toBe(30);
  });

  it('gives the attempt back when the password was right: the owner is not counted against the address', async () => {
    const { email } = await account();
    const ip = randomClientIp();
    for (let i = 0; i < 8; i += 1) {
      expect((await httpClient(stack.apiUrl, { ip }).call('POST', '/api/v1/auth/login', { body: { email, password: TEST_PASSWORD } })).status).toBe(200);
    }
  });
});

describe('account deletion is no password oracle (SECURITY.md §36)', () => {
  async function signedIn() {
    const { email, id } = await account();
    const response = await httpClient(stack.apiUrl).call('POST', '/api/v1/auth/login', { body: { email, password: TEST_PASSWORD, tokenDelivery: 'body' } });
    expect(response.status).toBe(200);
    const { accessToken } = (await response.json()) as { accessToken: string };
    return { id, auth: { authorization: `Bearer ${accessToken}` } };
  }
  const deleteMe = (auth: Record<string, string>, ip: string, password: string) =>
    httpClient(stack.apiUrl, { ip }).call('DELETE', '/api/v1/users/me', { body: { password }, headers: auth });

  it('limits wrong passwords per address like login, in parallel too, and audits each failure', async () => {
    const user = await signedIn();
    const ip = randomClientIp();
    const seen = tally(await codes(await Promise.all(Array.from({ length: 20 }, () => deleteMe(user.auth, ip, `wrong guess ${randomUUID()}`)))));
    expect(seen['401 INVALID_CREDENTIALS']).toBeGreaterThan(0);
    expect(seen['401 INVALID_CREDENTIALS']).toBeLessThanOrEqual(5);
    expect(seen['429 RATE_LIMITED']).toBeGreaterThan(0);
    // The right password from that address waits like everyone else's.
    expect((await deleteMe(user.auth, ip, TEST_PASSWORD)).status).toBe(429);

    const failures = await stack.orm.em.fork().count(AuditEntry, { action: 'account.delete-request', resource: `user:${user.id}`, result: 'failure' });
    expect(failures).toBe(seen['401 INVALID_CREDENTIALS']);
    const refused = await stack.orm.em.fork().count(AuditEntry, { action: 'account.delete-request', resource: `user:${user.id}`, result: 'rate-limited' });
    expect(refused).toBeGreaterThan(0);
  });

  it("counts deletion failures against the account's login lock", async () => {
    const user = await signedIn();
    // From many addresses, so only the per-account guard is in play.
    for (let i = 0; i < 5; i += 1) expect((await deleteMe(user.auth, randomClientIp(), `wrong guess ${i} abc`)).status).toBe(401);
    const next = await deleteMe(user.auth, randomClientIp(), `wrong guess 6 abc`);
    expect(((await next.json()) as { code: string }).code).toBe('CAPTCHA_REQUIRED');
  });
});
