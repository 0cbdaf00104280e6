import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEntry, Booking, BookingItem, User } from '../../infra/db/entities.js';
import { json, type BookingJson } from '../support/booking-client.js';
import { signIn } from '../support/sign-in.js';
import { startStack, type Stack } from '../support/stack.js';
import { bookingWorkflowId } from '../../domain/booking-ids.js';

let stack: Stack;
let admin: Awaited<ReturnType<typeof signIn>>;
let support: Awaited<ReturnType<typeof signIn>>;
beforeAll(async () => {
  stack = await startStack();
  admin = await signIn(stack, { role: 'admin' });
  support = await signIn(stack, { role: 'support' });
});
afterAll(async () => {
  await stack?.stop();
});

const get = (path: string, headers: Record<string, string> = {}) => stack.app.request(`/api/v1/admin${path}`, { headers });
const PII = /Ada|Lovelace|X1234567|\+4477|example\.com|ciphertext/;

/**
 * Bookings written straight to the database, dated in a future of their own so they head the
 * newest-first list whatever other test files book meanwhile. Returned newest first, as the
 * API must list them; laid out so that pages of two end where a sloppy cursor goes wrong.
 */
async function seedBookings() {
  const em = stack.orm.em.fork();
  const userId = randomUUID();
  em.create(User, { id: userId, email: `seeded-${userId}@example.com`, name: 'Ada Lovelace' });
  const base = Date.UTC(2090, 0, 1) + Math.floor(Math.random() * 3_000_000_000) * 100;
  // Three rows in one millisecond, the id deciding between them; the second page ends inside them.
  const tied = [randomUUID(), randomUUID(), randomUUID()].sort().reverse();
  const plan = [
    { offset: 5000, status: 'CONFIRMED' },
    // 250 µs after the tied rows, ending page one, with the lowest id of all: a cursor cut to
    // milliseconds would skip every tied row.
    { offset: 4000, micros: 250, id: `00000000${randomUUID().slice(8)}`, status: 'EXPIRED' },
    { offset: 4000, id: tied[0], status: 'CANCELLED' },
    { offset: 4000, id: tied[1], status: 'FAILED', failureCode: 'PRICE_CHANGED' },
    { offset: 4000, id: tied[2], status: 'CONFIRMED' },
    { offset: 2000, status: 'FAILED', failureCode: 'PAYMENT_DECLINED' },
  ];
  const rows = plan.map(({ offset, micros = 0, id = randomUUID(), status, failureCode }, index) => {
    const key = randomUUID();
    const createdAt = new Date(base + offset);
    const booking = em.create(Booking, {
      id,
      user: userId,
      workflowId: bookingWorkflowId(userId, key),
      idempotencyKey: key,
      requestHash: '0'.repeat(64),
      status,
      totalMinor: 12_345 + index,
      currency: 'EUR',
      passengers: [{ givenName: 'Ada', familyName: 'Lovelace', dateOfBirth: 'ciphertext', passportNumber: 'ciphertext', passportHint: '*****567', passportCountry: 'GB', nationality: 'GB' }],
      contactEmail: 'ada@example.com',
      contactPhone: 'ciphertext',
      failureCode: failureCode ?? null,
      failureMessage: failureCode ? 'Ada Lovelace, X1234567, +447700900999' : null,
      createdAt,
      updatedAt: createdAt,
    });
    em.create(BookingItem, { id: randomUUID(), booking, offerId: `sandbox:${randomUUID()}`, provider: 'sandbox', kind: 'flight', priceMinor: 12_345 + index, currency: 'EUR', state: 'CONFIRMED' });
    return { id, status, createdAt: createdAt.toISOString(), micros, totalMinor: 12_345 + index, failureCode };
  });
  await em.flush();
  // A JavaScript Date holds milliseconds only; Postgres keeps microseconds.
  for (const row of rows.filter((r) => r.micros > 0)) {
    await em.execute('update bookings set created_at = created_at + make_interval(secs => ?) where id = ?', [row.micros / 1e6, row.id]);
  }
  return { userId, rows };
}

/** Follows nextCursor to the end; every page must be 200 and within the limit. */
async function walk(path: string, headers: Record<string, string>, limit: number) {
  const seen: BookingJson[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const response = await get(`${path}${separator}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, headers);
    expect(response.status).toBe(200);
    const body = (await json(response)) as { items: BookingJson[]; nextCursor: string | null };
    expect(body.items.length).toBeLessThanOrEqual(limit);
    seen.push(...body.items);
    cursor = body.nextCursor;
    pages += 1;
  } while (cursor);
  return { seen, pages };
}

describe('GET /admin/bookings', () => {
  let seeded: Awaited<ReturnType<typeof seedBookings>>;
  beforeAll(async () => {
    seeded = await seedBookings();
  });

  it('walks every booking exactly once, newest first, across pages of two', async () => {
    const { seen, pages } = await walk('/bookings', admin.auth, 2);
    const ids = seen.map((b) => b.bookingId as string);
    expect(new Set(ids).size).toBe(ids.length);
    expect(pages).toBeGreaterThanOrEqual(3);
    // The seeded ones are the newest: they open the list, in order, the tie broken by id.
    expect(ids.slice(0, seeded.rows.length)).toEqual(seeded.rows.map((r) => r.id));
    for (let i = 1; i < seen.length; i += 1) expect(seen[i - 1]!.createdAt >= seen[i]!.createdAt).toBe(true);
  });

  it('shows ids, status, price, providers and the failure code, and no personal data', async () => {
    const response = await get('/bookings?limit=6', support.auth);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toMatch(PII);
    const { items } = JSON.parse(text) as { items: BookingJson[] };
    const failed = seeded.rows.find((r) => r.failureCode === 'PAYMENT_DECLINED')!;
    expect(items.find((b) => b.bookingId === failed.id)).toEqual({
      bookingId: failed.id,
      userId: seeded.userId,
      status: 'FAILED',
      price: { amount: (failed.totalMinor / 100).toFixed(2), currency: 'EUR' },
      providers: ['sandbox'],
      createdAt: failed.createdAt,
      updatedAt: failed.createdAt,
      failure: { code: 'PAYMENT_DECLINED' },
    });
    expect(items.find((b) => b.bookingId === seeded.rows[0]!.id)).not.toHaveProperty('failure');
  });

  it('filters by status', async () => {
    const { seen } = await walk('/bookings?status=FAILED', support.auth, 100);
    expect(seen.every((b) => b.status === 'FAILED')).toBe(true);
    const expected = seeded.rows.filter((r) => r.status === 'FAILED').map((r) => r.id);
    expect(seen.map((b) => b.bookingId).slice(0, expected.length)).toEqual(expected);
  });

  it('refuses a cursor it did not issue, and bad limits or filters, with 400 VALIDATION_FAILED', async () => {
    const forged = [
      Buffer.from('2090-02-30T00:00:00.000000Z|00000000-0000-4000-8000-000000000000').toString('base64url'),
      Buffer.from("2090-01-01T00:00:00.000000Z|x' or 1=1 --").toString('base64url'),
      Buffer.from('not a cursor').toString('base64url'),
      'a.b',
    ];
    const queries = [...forged.map((c) => `cursor=${encodeURIComponent(c)}`), 'limit=0', 'limit=101', 'limit=two', 'status=LOST', 'user=someone'];
    for (const query of queries) {
      const response = await get(`/bookings?${query}`, admin.auth);
      expect(response.status, query).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect((await json(response)).code, query).toBe('VALIDATION_FAILED');
    }
  });
});

describe('GET /admin/audit', () => {
  it('pages through the log newest first by seq, filtered', async () => {
    const reader = await signIn(stack, { role: 'support' });
    const actor = `user:${reader.userId}`;
    for (let i = 0; i < 5; i += 1) expect((await get('/bookings?limit=1', reader.auth)).status).toBe(200);

    const { seen } = await walk(`/audit?actor=${encodeURIComponent(actor)}&action=admin.bookings.list`, admin.auth, 2);
    expect(seen).toHaveLength(5);
    const seqs = seen.map((r) => BigInt(r.seq as string));
    expect(seqs.every((seq, i) => i === 0 || seq < seqs[i - 1]!)).toBe(true);
    expect(seen[0]).toMatchObject({ actor, action: 'admin.bookings.list', resource: 'bookings', result: 'success', details: { limit: 1, status: null } });
    expect(seen[0]!.ip).toEqual(expect.any(String));

    const from = seen[2]!.occurredAt as string;
    const ranged = await json(await get(`/audit?actor=${encodeURIComponent(actor)}&from=${encodeURIComponent(from)}&to=2999-01-01T00:00:00Z`, admin.auth));
    expect(ranged.items.every((r: BookingJson) => r.occurredAt >= from)).toBe(true);
    expect(ranged.items.map((r: BookingJson) => r.seq)).toEqual(expect.arrayContaining([seen[0]!.seq, seen[2]!.seq]));
  });

  it('refuses bad input with 400 VALIDATION_FAILED', async () => {
    for (const query of ['cursor=' + Buffer.from('-1').toString('base64url'), 'cursor=' + Buffer.from('99999999999999999999').toString('base64url'), 'from=yesterday', 'limit=1000', 'actor=%0Aforged', 'sort=seq']) {
      const response = await get(`/audit?${query}`, support.auth);
      expect(response.status, query).toBe(400);
      expect((await json(response)).code, query).toBe('VALIDATION_FAILED');
    }
  });
});

describe('who may use /admin', () => {
  const role = (target: string, headers: Record<string, string>, to = 'support') =>
    stack.app.request(`/api/v1/admin/users/${target}/role`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ role: to }) });

  it('hides every admin route from a traveller (404) and asks the anonymous to authenticate (401)', async () => {
    const traveller = await signIn(stack);
    const target = randomUUID();
    for (const response of [await get('/bookings', traveller.auth), await get('/audit?cursor=!!', traveller.auth), await role(target, traveller.auth)]) {
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect((await json(response)).code).toBe('NOT_FOUND');
    }
    for (const response of [await get('/bookings'), await get('/audit'), await role(target, {})]) {
      expect(response.status).toBe(401);
      expect((await json(response)).code).toBe('UNAUTHENTICATED');
    }
  });

  it('lets support read but not change roles (404)', async () => {
    const target = await signIn(stack);
    const response = await role(target.userId, support.auth, 'admin');
    expect(response.status).toBe(404);
    expect((await json(response)).code).toBe('NOT_FOUND');
    expect((await stack.orm.em.fork().findOneOrFail(User, { id: target.userId })).role).toBe('user');
    expect((await stack.app.request('/api/v1/users/me', { headers: target.auth })).status).toBe(200);
  });

  it("lets an admin change a role: audited with from and to, and the target's old session ends", async () => {
    const target = await signIn(stack);
    const response = await role(target.userId, admin.auth, 'support');
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ id: target.userId, role: 'support', previousRole: 'user' });
    expect((await stack.orm.em.fork().findOneOrFail(User, { id: target.userId })).role).toBe('support');

    const rows = await stack.orm.em.fork().find(AuditEntry, { action: 'admin.role-change', resource: `user:${target.userId}` });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: `user:${admin.userId}`, result: 'success', details: { from: 'user', to: 'support' } });

    // The old token still says "user": the session behind it must be gone.
    const old = await stack.app.request('/api/v1/users/me', { headers: target.auth });
    expect(old.status).toBe(401);
    expect((await get('/bookings', target.auth)).status).toBe(401);
  });

  it('leaves an audit row for every admin read, with the filters and no personal data', async () => {
    const reader = await signIn(stack, { role: 'admin' });
    expect((await get('/bookings?status=CONFIRMED&limit=3', reader.auth)).status).toBe(200);
    expect((await get('/audit?action=admin.role-change&limit=4', reader.auth)).status).toBe(200);
    const rows = await stack.orm.em.fork().find(AuditEntry, { actor: `user:${reader.userId}` }, { orderBy: { seq: 'asc' } });
    expect(rows.map((r) => [r.action, r.resource, r.result])).toEqual([
      ['admin.bookings.list', 'bookings', 'success'],
      ['admin.audit.search', 'audit_log', 'success'],
    ]);
    expect(rows[0]!.details).toMatchObject({ status: 'CONFIRMED', limit: 3, cursor: null });
    expect(rows[1]!.details).toMatchObject({ action: 'admin.role-change', actor: null, limit: 4 });
    expect(JSON.stringify(rows)).not.toMatch(PII);
  });
});
