import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../infra/audit/audit-log.js';
import { createFieldCipher, DataKeyDestroyedError } from '../../infra/crypto/field-cipher.js';
import { createDataKeyStore } from '../../infra/db/data-key.store.js';
import { Booking, Session, User } from '../../infra/db/entities.js';
import { json, travellerOf } from '../support/booking-client.js';
import { httpClient } from '../support/http-client.js';
import { signUpOverHttp, TEST_PASSWORD } from '../support/http-account.js';
import { startStack, type Stack } from '../support/stack.js';

// SECURITY.md §22 and the right of access: export, deletion with a grace period, crypto-shredding.
const GRACE_MS = 3_000;
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { ACCOUNT_DELETION_GRACE_MS: String(GRACE_MS) } });
});
afterAll(async () => {
  await stack?.stop();
});

async function bookedAccount() {
  const client = httpClient(stack.apiUrl);
  const account = await signUpOverHttp(stack.apiUrl, { headers: { 'x-forwarded-for': client.ip } });
  const traveller = await travellerOf(stack, account);
  const body = await traveller.bookingBody();
  const { bookingId } = await json(await traveller.book(body));
  await traveller.settled(bookingId);
  return { client, account, bookingId, passport: body.passengers[0]!.passportNumber as string };
}

const deleteAccount = (stackClient: ReturnType<typeof httpClient>, auth: Record<string, string>, password: string) =>
  stackClient.call('DELETE', '/api/v1/users/me', { body: { password }, headers: auth });

describe('export and erasure', () => {
  it('exports everything held about the caller, decrypted', async () => {
    const { client, account, bookingId, passport } = await bookedAccount();
    const response = await client.call('GET', '/api/v1/users/me/export', { headers: account.auth });
    expect(response.status).toBe(200);
    const exported = (await response.json()) as {
      profile: { email: string };
      bookings: Array<{ bookingId: string; passengers: Array<{ passportNumber: string; dateOfBirth: string }>; contact: { phone: string } }>;
      sessions: unknown[];
    };
    expect(exported.profile.email).toBe(account.email);
    expect(exported.bookings.map((b) => b.bookingId)).toEqual([bookingId]);
    expect(exported.bookings[0]!.passengers[0]!.passportNumber).toBe(passport);
    expect(exported.bookings[0]!.passengers[0]!.dateOfBirth).toBe('1985-12-10');
    expect(exported.bookings[0]!.contact.phone).toBe('+447700900123');
    expect(exported.sessions.length).toBeGreaterThan(0);
    // The booking's own trail (status and payment transitions written by the saga) is the caller's too.
    const trail = (exported as unknown as { auditEvents: Array<{ action: string; resource: string; result: string }> }).auditEvents.filter(
      (e) => e.resource === `booking:${bookingId}`,
    );
    expect(trail.filter((e) => e.action === 'booking.status_changed').map((e) => e.result)).toEqual(['STARTED', 'HELD', 'CONFIRMED']);
    expect(trail.filter((e) => e.action === 'payment.status_changed').map((e) => e.result)).toEqual(['CREATED', 'AUTHORIZED', 'CAPTURED']);
  });

  it('exports every audit row about the caller, however many pages they fill', async () => {
    const { client, account } = await bookedAccount();
    // Past the 1000 rows the export once stopped at, through the audit writer so the chain stays whole.
    const ROWS = 1_234;
    await stack.orm.em.fork().transactional(async (em) => {
      for (let n = 0; n < ROWS; n += 1) {
        await appendAudit(em, stack.config.audit.hmacKey, { actor: `user:${account.userId}`, action: 'test.export-volume', resource: `user:${account.userId}`, result: String(n) });
      }
    });
    const response = await client.call('GET', '/api/v1/users/me/export', { headers: account.auth });
    expect(response.status).toBe(200);
    const { auditEvents } = (await response.json()) as { auditEvents: Array<{ action: string; result: string }> };
    // Every row once, oldest first, and the rows written before them too (sign-up, login).
    const volume = auditEvents.filter((e) => e.action === 'test.export-volume').map((e) => e.result);
    expect(volume).toEqual(Array.from({ length: ROWS }, (_, n) => String(n)));
    expect(auditEvents.length).toBeGreaterThan(ROWS);
    expect(auditEvents.findIndex((e) => e.action === 'test.export-volume')).toBeGreaterThan(0);
  });

  it('revokes sessions at once, then erases PII and destroys the data key so old ciphertext is unreadable; bookings keep their ids', async () => {
    const { client, account, bookingId, passport } = await bookedAccount();
    const before = await stack.orm.em.fork().findOneOrFail(Booking, { id: bookingId });
    const keptCiphertext = before.passengers[0]!.passportNumber; // as a backup would keep it
    expect(keptCiphertext).not.toContain(passport);
    expect(await createFieldCipher({ keys: stack.keys, store: createDataKeyStore(stack.orm) }).decrypt(account.userId, keptCiphertext)).toBe(passport);

    expect((await deleteAccount(client, account.auth, 'not my password 123')).status).toBe(401);
    const scheduled = await deleteAccount(client, account.auth, TEST_PASSWORD);
    expect(scheduled.status).toBe(202);
    const { deletionScheduledFor } = (await scheduled.json()) as { deletionScheduledFor: string };
    expect(new Date(deletionScheduledFor).getTime()).toBeGreaterThan(Date.now());
    // Sessions end now, not after the grace period.
    expect((await client.call('GET', '/api/v1/users/me', { headers: account.auth })).status).toBe(401);
    const sessions = await stack.orm.em.fork().find(Session, { user: account.userId });
    expect(sessions.every((s) => s.revokedReason === 'account-deleted')).toBe(true);

    const outcome = await stack.temporal.workflow.getHandle(`account-deletion-${account.userId}`).result();
    expect(outcome).toBe('erased');
    const user = await stack.orm.em.fork().findOneOrFail(User, { id: account.userId });
    expect({ email: user.email, name: user.name, phone: user.phone, key: user.wrappedDataKey, hash: user.passwordHash }).toEqual({
      email: null, name: null, phone: null, key: null, hash: null,
    });
    const after = await stack.orm.em.fork().findOneOrFail(Booking, { id: bookingId });
    expect(after.status).toBe(before.status);
    expect(after.totalMinor).toBe(before.totalMinor);
    expect(after.passengers).toEqual([]);
    // Crypto-shredded: the ciphertext kept from before no longer decrypts, with a fresh key cache.
    const cipher = createFieldCipher({ keys: stack.keys, store: createDataKeyStore(stack.orm) });
    await expect(cipher.decrypt(account.userId, keptCiphertext)).rejects.toThrow();
    // Nor does anything written for it later (a late retry of a step, say) get a fresh key to outlive the erasure.
    await expect(cipher.encrypt(account.userId, 'written after the erasure')).rejects.toThrow(DataKeyDestroyedError);
    expect((await stack.orm.em.fork().findOneOrFail(User, { id: account.userId })).wrappedDataKey).toBeNull();
    // And nobody signs in to it any more.
    expect((await client.call('POST', '/api/v1/auth/login', { body: { email: account.email, password: TEST_PASSWORD } })).status).toBe(401);
  });

  it('keeps the account when its owner signs in during the grace period', async () => {
    const client = httpClient(stack.apiUrl);
    const account = await signUpOverHttp(stack.apiUrl, { headers: { 'x-forwarded-for': client.ip } });
    expect((await deleteAccount(client, account.auth, TEST_PASSWORD)).status).toBe(202);
    const login = await client.call('POST', '/api/v1/auth/login', { body: { email: account.email, password: TEST_PASSWORD } });
    expect(login.status).toBe(200);
    expect(await stack.temporal.workflow.getHandle(`account-deletion-${account.userId}`).result()).toBe('restored');
    await new Promise((resolve) => setTimeout(resolve, GRACE_MS));
    const user = await stack.orm.em.fork().findOneOrFail(User, { id: account.userId });
    expect(user.email).toBe(account.email);
    expect(user.deletionRequestedAt).toBeNull();
    expect((await client.call('GET', '/api/v1/users/me')).status).toBe(200);
  });
});
