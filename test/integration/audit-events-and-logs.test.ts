import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEntry, Session } from '../../infra/db/entities.js';
import { createLogger } from '../../infra/logger.js';
import { recordedLog } from '../support/recorded-log.js';
import { json, travellerOf } from '../support/booking-client.js';
import { httpClient } from '../support/http-client.js';
import { mailTo, signUpOverHttp, TEST_PASSWORD, tokenIn } from '../support/http-account.js';
import { signIn } from '../support/sign-in.js';
import { startStack, type Stack } from '../support/stack.js';

// SECURITY.md §27 (what the audit log holds) and §29 (what no log line holds), through HTTP.
const { lines, sink } = recordedLog();
let stack: Stack;
beforeAll(async () => {
  // The API's real logger (same redaction), at debug, writing to memory.
  const log = createLogger({ logLevel: 'debug', nodeEnv: 'test' }, 'api', sink);
  stack = await startStack({ log, loginGuard: { baseDelayMs: 10, maxDelayMs: 20 } });
});
afterAll(async () => {
  await stack?.stop();
});

const auditRows = async (where: object) =>
  stack.orm.em.fork().find(AuditEntry, where, { orderBy: { seq: 'asc' } });

describe('audit events (SECURITY.md §27)', () => {
  it('records authentication, lockout, authorization failures and admin actions with who, what, when, where and result', async () => {
    const client = httpClient(stack.apiUrl);
    const userAgent = 'audit-test-agent/1.0';
    const headers = { 'user-agent': userAgent };
    const account = await signUpOverHttp(stack.apiUrl, { headers: { 'x-forwarded-for': client.ip, ...headers } });
    const resource = `user:${account.userId}`;

    await client.call('POST', '/api/v1/auth/login', { body: { email: account.email, password: 'wrong password 1234' }, headers });
    await client.call('POST', '/api/v1/auth/login', { body: { email: account.email, password: TEST_PASSWORD }, headers });
    await client.call('POST', '/api/v1/auth/logout', { headers: { ...headers, ...client.csrf() } });
    await client.call('POST', '/api/v1/auth/password-reset/request', { body: { email: account.email }, headers });
    const token = tokenIn(await mailTo(stack.apiUrl, account.email, /reset your password/i));
    await client.call('POST', '/api/v1/auth/password-reset/confirm', { body: { token, newPassword: 'another fine passphrase 5' }, headers });
    // A lock, from many addresses.
    for (let i = 0; i < 12; i += 1) {
      const captchaToken = i === 6 ? undefined : 'pass-it'; // one try without the CAPTCHA it now needs
      await httpClient(stack.apiUrl).call('POST', '/api/v1/auth/login', { body: { email: account.email, password: 'guess 12345678', captchaToken }, headers });
    }
    // A traveller probing the admin routes, and an admin changing a role.
    const traveller = await signIn(stack);
    expect((await stack.app.request('/api/v1/admin/users/00000000-0000-4000-8000-000000000000/role', {
      method: 'POST', headers: { ...traveller.auth, 'content-type': 'application/json' }, body: JSON.stringify({ role: 'admin' }),
    })).status).toBe(404);
    const admin = await signIn(stack, { role: 'admin' });
    expect((await stack.app.request(`/api/v1/admin/users/${account.userId}/role`, {
      method: 'POST', headers: { ...admin.auth, 'content-type': 'application/json' }, body: JSON.stringify({ role: 'support' }),
    })).status).toBe(200);

    const mine = await auditRows({ $or: [{ resource }, { actor: `user:${account.userId}` }] });
    // Attempts on an account name it by id; who tried is anonymous.
    const byAccount = await auditRows({ action: 'auth.login', resource, actor: 'anonymous' });
    const seen = (rows: typeof mine) => rows.map((r) => `${r.action}:${r.result}`);
    expect(seen(mine)).toEqual(expect.arrayContaining([
      'auth.signup:success', 'auth.verify-email:success', 'auth.login:success', 'auth.logout:success',
      'auth.password-reset-token:issued', 'auth.password-reset:success', 'admin.role-change:success',
    ]));
    expect(seen(byAccount)).toEqual(expect.arrayContaining(['auth.login:failure', 'auth.login:captcha-required', 'auth.login:locked']));
    const denied = await auditRows({ actor: `user:${traveller.userId}`, action: 'authz.role' });
    expect(denied.map((r) => r.result)).toEqual(['denied']);

    for (const row of [...mine.filter((r) => r.action.startsWith('auth.') && r.actor !== 'system'), ...byAccount, ...denied]) {
      expect(row.actor).toBeTruthy();
      expect(row.occurredAt.toISOString()).toMatch(/Z$/); // UTC
      expect(row.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(row.result).toBeTruthy();
    }
    expect(mine.find((r) => r.action === 'auth.login' && r.result === 'success')!.userAgent).toBe(userAgent);
    // No address, password or token in the audit log: accounts appear by id (unknown addresses by a keyed pseudonym).
    const text = JSON.stringify([...mine, ...byAccount]);
    expect(text).not.toContain(account.email);
    expect(text).not.toContain(TEST_PASSWORD);
    expect(text).not.toContain(token);
  });
});

describe('log lines (SECURITY.md §29)', () => {
  it('hold no password, token, passport number, full phone, card data or session id, and CR/LF cannot forge a line', async () => {
    const client = httpClient(stack.apiUrl);
    const account = await signUpOverHttp(stack.apiUrl, { headers: { 'x-forwarded-for': client.ip } });
    const traveller = await travellerOf(stack, account);
    const body = await traveller.bookingBody();
    const { bookingId } = await json(await traveller.book(body));
    await traveller.settled(bookingId);
    await client.call('POST', '/api/v1/auth/login', { body: { email: account.email, password: TEST_PASSWORD } });
    const refreshed = (await (await client.call('POST', '/api/v1/auth/refresh', { body: { refreshToken: account.refreshToken, tokenDelivery: 'body' } })).json()) as { refreshToken: string };
    await client.call('POST', '/api/v1/auth/login', { body: { email: account.email, password: 'a wrong password 9' } });
    // Hostile input aimed at the log: a forged second line in body fields (HTTP itself keeps CR/LF out of headers).
    const forged = 'x\r\n{"level":30,"msg":"forged admin login"}';
    await client.call('POST', '/api/v1/auth/login', { body: { email: `a${forged}@b.test`, password: forged } });
    await client.call('POST', '/api/v1/auth/signup', { body: { email: 'c@d.test', password: forged, name: forged } });
    await client.call('GET', `/api/v1/search/flights?origin=${encodeURIComponent(forged)}`, { headers: { authorization: `Bearer ${account.accessToken}` } });
    const sessions = await stack.orm.em.fork().find(Session, { user: account.userId });

    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow(); // every line is one JSON document
    expect(lines.some((line) => JSON.parse(line).msg === 'forged admin login')).toBe(false);
    const everything = lines.join('\n');
    const secrets = {
      password: TEST_PASSWORD,
      accessToken: account.accessToken,
      refreshToken: account.refreshToken,
      rotatedRefreshToken: refreshed.refreshToken,
      passport: body.passengers[0]!.passportNumber as string,
      phone: '+447700900123',
      ...Object.fromEntries(sessions.map((s, i) => [`session${i}`, s.id])),
    };
    for (const [name, secret] of Object.entries(secrets)) expect({ name, leaked: everything.includes(secret) }).toEqual({ name, leaked: false });
  });
});
