import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEntry } from '../../infra/db/entities.js';
import { httpClient, randomClientIp } from '../support/http-client.js';
import { signIn } from '../support/sign-in.js';
import { startStack, type Stack } from '../support/stack.js';

// Issue 11, "small leaks": what the audit log and the export give away about other people.
let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const resourcesOf = (action: string, since: Date) =>
  stack.orm.em.fork().find(AuditEntry, { action, occurredAt: { $gte: since } }, { fields: ['resource', 'result'] });

describe('the export (GDPR access)', () => {
  it("shows the caller's own addresses, never an operator's", async () => {
    const user = await signIn(stack);
    const admin = await signIn(stack, { role: 'admin' });
    const adminIp = randomClientIp();
    const changed = await httpClient(stack.apiUrl, { ip: adminIp }).call('POST', `/api/v1/admin/users/${user.userId}/role`, {
      headers: admin.auth, body: { role: 'support' },
    });
    expect(changed.status).toBe(200);
    // The change ended the user's sessions: they sign in again, from an address of their own.
    const { session } = await stack.auth.sessions.create(user.userId, 'vitest', '127.0.0.1');
    const { token } = await stack.auth.accessTokens.issue({ userId: user.userId, sessionId: session.id, role: 'support' });
    const exported = await httpClient(stack.apiUrl).call('GET', '/api/v1/users/me/export', { headers: { authorization: `Bearer ${token}` } });
    expect(exported.status).toBe(200);
    const body = (await exported.json()) as { auditEvents: Array<{ action: string; ip: string | null }> };
    const roleChange = body.auditEvents.find((e) => e.action === 'admin.role-change');
    expect(roleChange).toBeDefined();
    expect(roleChange!.ip).toBeNull();
    expect(JSON.stringify(body)).not.toContain(adminIp);
  });
});

describe('how the audit log names accounts', () => {
  it('by a keyed pseudonym for unknown addresses and by id for accounts, never by a hash anyone can recompute', async () => {
    const since = new Date(Date.now() - 1_000);
    const unknown = `nobody-${randomUUID()}@example.test`;
    const member = await signIn(stack);
    for (const email of [unknown, member.email]) {
      const answer = await httpClient(stack.apiUrl).call('POST', '/api/v1/auth/login', { body: { email, password: 'not the password 123' } });
      expect(answer.status).toBe(401);
    }
    const rows = (await resourcesOf('auth.login', since)).filter((r) => r.result === 'failure');
    const unsalted = (email: string) => createHash('sha256').update(email).digest('hex').slice(0, 16);
    expect(rows.map((r) => r.resource)).toContain(`user:${member.userId}`);
    const pseudonyms = rows.map((r) => r.resource).filter((r) => r.startsWith('account:'));
    expect(pseudonyms).toHaveLength(1);
    for (const email of [unknown, member.email]) {
      expect(rows.some((r) => r.resource.includes(unsalted(email)))).toBe(false);
    }
  });
});
