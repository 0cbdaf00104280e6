import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEntry } from '../../infra/db/entities.js';
import { createLogger } from '../../infra/logger.js';
import { eventually } from '../support/eventually.js';
import { httpClient, randomClientIp } from '../support/http-client.js';
import { signIn } from '../support/sign-in.js';
import { startStack, type Stack } from '../support/stack.js';

// The internal adversarial review of 2026-12-06 (SECURITY.md, "Reviews"): one regression per finding.
const DENIAL_WINDOW_MS = 3000;
const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  },
});
let stack: Stack;
beforeAll(async () => {
  // The API's real logger, writing to memory, so a test can read every line a request caused.
  const log = createLogger({ logLevel: 'debug', nodeEnv: 'test' }, 'api', sink);
  stack = await startStack({ log, env: { AUTHZ_DENIAL_WINDOW_MS: String(DENIAL_WINDOW_MS) } });
});
afterAll(async () => {
  await stack?.stop();
});

const auditRows = async (where: object) => stack.orm.em.fork().find(AuditEntry, where, { orderBy: { seq: 'asc' } });

describe('authorization denials are limited before they are audited (finding 1)', () => {
  // The policy of api/middleware/denial-limit.ts: 20 audited denials a window per user, 60 per address.
  const PER_USER = 20;
  const PER_IP = 60;

  it('answers a flood of denials from one user with 429 past the limit, and audits the excess as one summary row', async () => {
    const traveller = await signIn(stack);
    const client = httpClient(stack.apiUrl);
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => client.call('GET', `/api/v1/admin/probe-${i}`, { headers: traveller.auth })),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 404)).toHaveLength(PER_USER);
    const refused = answers.filter((r) => r.status === 429);
    expect(refused).toHaveLength(50 - PER_USER);
    for (const response of refused) {
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
    const mine = () => auditRows({ actor: `user:${traveller.userId}` });
    expect((await mine()).filter((r) => r.action === 'authz.role')).toHaveLength(PER_USER);
    // Once the window has passed, the refused ones are written as one row with their count.
    const rows = await eventually(mine, (all) => all.some((r) => r.action === 'authz.denials-limited'), { timeoutMs: 4 * DENIAL_WINDOW_MS, what: 'the summary row' });
    const summaries = rows.filter((r) => r.action === 'authz.denials-limited');
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ resource: `user:${traveller.userId}`, result: 'refused', ip: client.ip });
    expect(summaries[0]!.details).toMatchObject({ count: 50 - PER_USER });
    // The next window audits again, one row per denial.
    expect((await client.call('GET', '/api/v1/admin/audit', { headers: traveller.auth })).status).toBe(404);
    expect((await mine()).filter((r) => r.action === 'authz.role')).toHaveLength(PER_USER + 1);
  });

  it('counts denials per client address as well, whoever is signed in', async () => {
    const ip = randomClientIp();
    const travellers = await Promise.all(Array.from({ length: 4 }, () => signIn(stack)));
    const client = httpClient(stack.apiUrl, { ip });
    const answers = await Promise.all(
      travellers.flatMap((t) => Array.from({ length: PER_USER }, (_, i) => client.call('GET', `/api/v1/admin/p${i}`, { headers: t.auth }))),
    );
    expect(answers.filter((r) => r.status === 404)).toHaveLength(PER_IP);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(4 * PER_USER - PER_IP);
    const summary = await eventually(
      () => auditRows({ action: 'authz.denials-limited', resource: `ip:${ip}` }),
      (rows) => rows.length > 0,
      { timeoutMs: 4 * DENIAL_WINDOW_MS, what: 'the per-address summary row' },
    );
    expect(summary).toHaveLength(1);
    expect(summary[0]!.details).toMatchObject({ count: 4 * PER_USER - PER_IP });
  });

  it('limits CSRF denials the same way', async () => {
    const traveller = await signIn(stack);
    const client = httpClient(stack.apiUrl);
    const cookie = `__Host-tc_access=${traveller.accessToken}`;
    const answers = await Promise.all(
      Array.from({ length: PER_USER + 5 }, () => client.call('POST', '/api/v1/auth/logout', { headers: { cookie } })),
    );
    expect(answers.filter((r) => r.status === 403)).toHaveLength(PER_USER);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(5);
    expect(await auditRows({ actor: `user:${traveller.userId}`, action: 'authz.csrf' })).toHaveLength(PER_USER);
  });
});
