import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OneTimeToken, User } from '../../infra/db/entities.js';
import { httpClient } from '../support/http-client.js';
import { mailTo, TEST_PASSWORD, tokenIn, type Mail } from '../support/http-account.js';
import { eventually } from '../support/eventually.js';
import { startStack, type Stack } from '../support/stack.js';

// SECURITY.md §31: nobody's signup puts a password on an address they do not own, whoever signs up
// first; a mailed link never signs in with a password other than the one it was issued for.
let stack: Stack;
beforeAll(async () => {
  // Short progressive delays: the sign-in race below waits one out.
  stack = await startStack({ loginGuard: { baseDelayMs: 1_500, maxDelayMs: 1_500 } });
});
afterAll(async () => {
  await stack?.stop();
});

const OWNER_PASSWORD = TEST_PASSWORD;
const INTRUDER_PASSWORD = 'an intruder picked this one 77';

const signup = (email: string, password: string, name: string, phone?: string) =>
  httpClient(stack.apiUrl).call('POST', '/api/v1/auth/signup', { body: { email, password, name, ...(phone ? { phone } : {}) } });
const verify = (token: string, password: string) =>
  httpClient(stack.apiUrl).call('POST', '/api/v1/auth/verify-email', { body: { token, password, tokenDelivery: 'body' } });
const login = (email: string, password: string) => httpClient(stack.apiUrl).call('POST', '/api/v1/auth/login', { body: { email, password, tokenDelivery: 'body' } });

/** Every message the development sink holds for an address, newest first. */
async function inbox(email: string, atLeast: number): Promise<Mail[]> {
  const { messages } = await eventually(
    async () => (await (await fetch(`${stack.apiUrl}/api/v1/dev/outbox?to=${encodeURIComponent(email)}`)).json()) as { messages: Mail[] },
    ({ messages }) => messages.length >= atLeast,
    { timeoutMs: 20_000, what: `${atLeast} mails to ${email}` },
  );
  return messages;
}

async function answer(response: Response) {
  return { status: response.status, body: await response.text(), type: response.headers.get('content-type') };
}

const nameOf = async (response: Response) => ((await response.json()) as { user: { name: string } }).user.name;

describe('signing up again for an address (SECURITY.md §31)', () => {
  it("keeps the owner's password and profile; the second signer never gets in; both answers are identical", async () => {
    const email = `owner-${randomUUID()}@example.test`;
    const first = await answer(await signup(email, OWNER_PASSWORD, 'Ada Owner', '+447700900123'));
    const second = await answer(await signup(email, INTRUDER_PASSWORD, 'Mallory Intruder', '+15005550006'));
    expect(second).toEqual(first);
    const [intruderLink, ownerLink] = (await inbox(email, 2)).map(tokenIn) as [string, string];

    // The owner clicks the newest mail (the intruder's signup) with the owner's password: refused.
    expect((await verify(intruderLink, OWNER_PASSWORD)).status).toBe(401);
    // With the owner's own link and password, the owner's signup is what the account becomes.
    const confirmed = await verify(ownerLink, OWNER_PASSWORD);
    expect(confirmed.status).toBe(200);
    expect(await nameOf(confirmed)).toBe('Ada Owner');
    expect((await verify(intruderLink, INTRUDER_PASSWORD)).status).toBe(400); // spent with the others
    expect((await login(email, INTRUDER_PASSWORD)).status).toBe(401);
    const owner = await login(email, OWNER_PASSWORD);
    expect(owner.status).toBe(200);
    expect(await nameOf(owner)).toBe('Ada Owner');
  });

  it('gives the first signer nothing when the owner signs up second (the pre-account hijack)', async () => {
    const email = `hijack-${randomUUID()}@example.test`;
    await signup(email, INTRUDER_PASSWORD, 'Mallory Intruder');
    await signup(email, OWNER_PASSWORD, 'Ada Owner');
    const [ownerLink, intruderLink] = (await inbox(email, 2)).map(tokenIn) as [string, string];
    // Out of curiosity the owner opens the intruder's mail too: without its password it does nothing.
    expect((await verify(intruderLink, OWNER_PASSWORD)).status).toBe(401);
    const confirmed = await verify(ownerLink, OWNER_PASSWORD);
    expect(confirmed.status).toBe(200);
    expect(await nameOf(confirmed)).toBe('Ada Owner');
    expect((await login(email, INTRUDER_PASSWORD)).status).toBe(401);
    expect((await login(email, OWNER_PASSWORD)).status).toBe(200);
  });

  it('answers a second signup of a confirmed address exactly as the first, changing nothing', async () => {
    const email = `confirmed-${randomUUID()}@example.test`;
    const first = await answer(await signup(email, OWNER_PASSWORD, 'Ada Owner'));
    expect((await verify(tokenIn(await mailTo(stack.apiUrl, email, /confirm/i)), OWNER_PASSWORD)).status).toBe(200);
    const before = await stack.orm.em.fork().findOneOrFail(User, { email });
    expect(await answer(await signup(email, INTRUDER_PASSWORD, 'Mallory Intruder'))).toEqual(first);
    const after = await stack.orm.em.fork().findOneOrFail(User, { email });
    expect([after.passwordHash, after.name]).toEqual([before.passwordHash, before.name]);
    expect((await login(email, INTRUDER_PASSWORD)).status).toBe(401);
  });
});

describe('mailed links and password changes (SECURITY.md §31)', () => {
  it('never signs in through a verification link issued before the password changed', async () => {
    const email = `changed-${randomUUID()}@example.test`;
    await signup(email, OWNER_PASSWORD, 'Ada Owner');
    const link = tokenIn(await mailTo(stack.apiUrl, email, /confirm/i));
    // The owner resets the password before confirming (the reset link also came by mail).
    await httpClient(stack.apiUrl).call('POST', '/api/v1/auth/password-reset/request', { body: { email } });
    const reset = tokenIn(await mailTo(stack.apiUrl, email, /reset/i));
    const confirmed = await httpClient(stack.apiUrl).call('POST', '/api/v1/auth/password-reset/confirm', { body: { token: reset, newPassword: INTRUDER_PASSWORD } });
    expect(confirmed.status).toBe(204);
    // The earlier verification link was spent by the password change: it neither verifies nor signs in.
    const late = await verify(link, OWNER_PASSWORD);
    expect(late.status).toBe(400);
    expect(((await late.json()) as { code: string }).code).toBe('INVALID_TOKEN');
  });

  it('spends every outstanding one-time token of a user when the password changes', async () => {
    const email = `tokens-${randomUUID()}@example.test`;
    await signup(email, OWNER_PASSWORD, 'Ada Owner');
    await mailTo(stack.apiUrl, email, /confirm/i);
    const client = httpClient(stack.apiUrl);
    await client.call('POST', '/api/v1/auth/password-reset/request', { body: { email } });
    await client.call('POST', '/api/v1/auth/password-reset/request', { body: { email } });
    const resets = (await inbox(email, 3)).filter((m) => /reset/i.test(m.subject)).map(tokenIn);
    expect(resets).toHaveLength(2);
    const [newest, older] = resets as [string, string];
    expect((await client.call('POST', '/api/v1/auth/password-reset/confirm', { body: { token: newest, newPassword: INTRUDER_PASSWORD } })).status).toBe(204);
    expect((await client.call('POST', '/api/v1/auth/password-reset/confirm', { body: { token: older, newPassword: 'yet another passphrase 31' } })).status).toBe(400);
    const user = await stack.orm.em.fork().findOneOrFail(User, { email });
    const live = await stack.orm.em.fork().count(OneTimeToken, { user: user.id, usedAt: null });
    expect(live).toBe(0);
  });

  it('never lets a sign-in that verified the old password outlive a reset that raced it', async () => {
    const email = `race-${randomUUID()}@example.test`;
    await signup(email, OWNER_PASSWORD, 'Ada Owner');
    expect((await verify(tokenIn(await mailTo(stack.apiUrl, email, /confirm/i)), OWNER_PASSWORD)).status).toBe(200);
    // Three failures: the next sign-in waits its progressive delay (1.5 s) before checking the password.
    for (let i = 0; i < 3; i += 1) expect((await login(email, `wrong guess ${i} 123`)).status).toBe(401);
    await httpClient(stack.apiUrl).call('POST', '/api/v1/auth/password-reset/request', { body: { email } });
    const reset = tokenIn(await mailTo(stack.apiUrl, email, /reset/i));
    const stale = login(email, OWNER_PASSWORD); // reads the account, then waits
    await new Promise((resolve) => setTimeout(resolve, 300));
    const changed = await httpClient(stack.apiUrl).call('POST', '/api/v1/auth/password-reset/confirm', { body: { token: reset, newPassword: INTRUDER_PASSWORD } });
    expect(changed.status).toBe(204);
    const late = await stale;
    if (late.status === 200) {
      // Whatever it got must already be dead.
      const { accessToken } = (await late.json()) as { accessToken: string };
      expect((await httpClient(stack.apiUrl).call('GET', '/api/v1/users/me', { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(401);
    } else {
      expect(late.status).toBe(401);
    }
  });
});
