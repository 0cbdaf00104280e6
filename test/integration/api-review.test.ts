import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEntry } from '../../infra/db/entities.js';
import { createOrm } from '../../infra/db/orm.js';
import type { KeyService } from '../../infra/crypto/field-cipher.js';
import { createKmsKeyService } from '../../infra/kms/kms.key-service.js';
import { createLogger } from '../../infra/logger.js';
import { recordedLog } from '../support/recorded-log.js';
import { createSlidingWindowLimiter } from '../../infra/rate-limit/sliding-window.js';
import { createRedis } from '../../infra/redis.js';
import { createEncryptionCodec } from '../../infra/temporal/encryption-codec.js';
import { createProviders } from '../../infra/providers/registry.js';
import { travellerOf, travellerOver } from '../support/booking-client.js';
import { eventually } from '../support/eventually.js';
import { httpClient, randomClientIp } from '../support/http-client.js';
import { signIn } from '../support/sign-in.js';
import { startStack, variantApp, type Stack } from '../support/stack.js';

// The internal adversarial review of 2026-12-06 (SECURITY.md, "Reviews"): one regression per finding.
const DENIAL_WINDOW_MS = 3000;
const { lines, sink } = recordedLog();
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

describe('no personal data in the server log when a store fails (finding 2)', () => {
  const PII = ['Ada', 'Lovelace', 'ada@example.com', 'force-a-database-error'];
  const parsed = () => lines.map((line) => JSON.parse(line) as { requestId?: string; msg?: string; err?: Record<string, unknown> });

  it('logs a failed insert by its class, SQLSTATE, constraint and table only', async () => {
    // A trigger (as the owner: the app role has no DDL) makes Postgres refuse one booking's insert,
    // whose statement carries the contact address, the passengers' names and ciphertexts.
    const owner = await createOrm(stack.config.migrationDatabase!);
    const name = `review_forced_${randomUUID().slice(0, 8)}`;
    const connection = owner.em.getConnection();
    await connection.execute(`create function ${name}() returns trigger language plpgsql as $$ begin raise exception 'refused by test' using errcode = 'P0001'; end $$`);
    await connection.execute(`create trigger ${name} before insert on bookings for each row when (new.notes = 'force-a-database-error') execute function ${name}()`);
    try {
      const traveller = await travellerOf(stack);
      const response = await traveller.book(await traveller.bookingBody({ notes: 'force-a-database-error' }));
      expect(response.status).toBe(500);
      const requestId = response.headers.get('x-request-id')!;
      const mine = lines.filter((line) => line.includes(requestId));
      const entry = parsed().find((line) => line.requestId === requestId && line.err);
      expect(entry?.err, 'the failure was logged').toBeDefined();
      expect(entry!.err).toEqual({ type: expect.stringMatching(/Exception$/), code: 'P0001' });
      for (const leak of [...PII, 'insert into', 'refused by test']) expect(mine.join('\n')).not.toContain(leak);
    } finally {
      await connection.execute(`drop trigger ${name} on bookings`);
      await connection.execute(`drop function ${name}()`);
      await owner.close();
    }
  });

  it("logs a Redis error without the command's arguments", async () => {
    const key = `review:${randomUUID()}`;
    await stack.redis.set(key, 'a string');
    const error: unknown = await stack.redis.hset(key, 'contact', 'ada@example.com').catch((e: unknown) => e);
    const log = createLogger({ logLevel: 'debug', nodeEnv: 'test' }, 'api', sink);
    log.error({ err: error, probe: key }, 'redis refused');
    const entry = parsed().find((line) => line.msg === 'redis refused' && JSON.stringify(line).includes(key));
    expect(entry?.err).toMatchObject({ type: 'ReplyError', command: { name: 'hset' } });
    expect(JSON.stringify(entry)).not.toContain('ada@example.com');
    await stack.redis.del(key);
  });
});

describe('free text refuses NUL and control characters (finding 3)', () => {
  const fieldErrors = async (response: Response) => ((await response.json()) as { errors?: Array<{ path: string }> }).errors?.map((e) => e.path);

  it('answers notes with NUL or a C0 control with 400 at notes, on create and on change; tab and newlines pass', async () => {
    const traveller = await travellerOf(stack);
    const body = await traveller.bookingBody();
    for (const notes of ['Window\u0000seat', 'bell\u0007', 'esc\u001b[31m', 'lone \uD800 half']) {
      const response = await traveller.book({ ...body, notes });
      expect(response.status, JSON.stringify(notes)).toBe(400);
      expect(await fieldErrors(response)).toEqual(['notes']);
    }
    const created = await traveller.book({ ...body, notes: 'Window seat,\n\tplease.\r\n' });
    expect(created.status).toBe(202);
    const { bookingId } = (await created.json()) as { bookingId: string };
    const patch = (notes: string) => stack.app.request(`/api/v1/bookings/${bookingId}`, {
      method: 'PATCH', headers: { ...traveller.auth, 'content-type': 'application/json' }, body: JSON.stringify({ notes }),
    });
    const refused = await patch('aisle\u0000please');
    expect(refused.status).toBe(400);
    expect(await fieldErrors(refused)).toEqual(['notes']);
    expect((await patch('aisle,\nplease')).status).toBe(200);
  });
});

describe('ids in paths are UUIDs or name nothing (finding 4)', () => {
  const notUuids = ['-'.repeat(36), 'a'.repeat(36), '0000000-00000-0000-0000-0000000000000', '00000000-0000-0000-0000-00000000000g'];

  it('answers a malformed id with 404 on every {id} route', async () => {
    const traveller = await signIn(stack);
    const admin = await signIn(stack, { role: 'admin' });
    const json = { 'content-type': 'application/json' };
    for (const id of notUuids) {
      const calls = [
        stack.app.request(`/api/v1/auth/sessions/${id}`, { method: 'DELETE', headers: traveller.auth }),
        stack.app.request(`/api/v1/admin/users/${id}/role`, { method: 'POST', headers: { ...admin.auth, ...json }, body: JSON.stringify({ role: 'support' }) }),
        stack.app.request(`/api/v1/bookings/${id}`, { headers: traveller.auth }),
        stack.app.request(`/api/v1/bookings/${id}`, { method: 'PATCH', headers: { ...traveller.auth, ...json }, body: JSON.stringify({ notes: 'x' }) }),
        stack.app.request(`/api/v1/bookings/${id}/cancel`, { method: 'POST', headers: { ...traveller.auth, 'idempotency-key': randomUUID() } }),
        stack.app.request(`/api/v1/admin/cases/${id}/resolve`, { method: 'POST', headers: { ...admin.auth, ...json }, body: JSON.stringify({ resolution: 'checked' }) }),
      ];
      const statuses = await Promise.all(calls.map(async (call) => (await call).status));
      expect(statuses, id).toEqual([404, 404, 404, 404, 404, 404]);
    }
  });
});

describe('one offer once per booking (finding 5)', () => {
  it('refuses the same offerId twice with 400 at offers, and writes no booking', async () => {
    const traveller = await travellerOf(stack);
    const body = await traveller.bookingBody();
    const key = randomUUID();
    const response = await traveller.book({ ...body, offers: [body.offers[0], body.offers[0]] }, key);
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { code: string; errors?: Array<{ path: string }> };
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors?.map((e) => e.path)).toEqual(['offers']);
    // The same key still books once the body is right.
    expect((await traveller.book(body, key)).status).toBe(202);
  });

  it('still answers a same-key race as a replay: only the idempotency constraint is that race', async () => {
    const traveller = await travellerOf(stack);
    const body = await traveller.bookingBody();
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 8 }, () => traveller.book(body, key)));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 202]);
    const ids = await Promise.all(answers.map(async (r) => ((await r.json()) as { bookingId: string }).bookingId));
    expect(new Set(ids).size).toBe(1);
  });

  it('answers a replay from the stored booking with nothing encrypted again: KMS out of reach, still 200 (same body) and 422 (another body)', async () => {
    const account = await signIn(stack);
    const traveller = await travellerOf(stack, account);
    const body = await traveller.bookingBody();
    const key = randomUUID();
    const first = await traveller.book(body, key);
    expect(first.status).toBe(202);
    const { bookingId } = (await first.json()) as { bookingId: string };
    let encryptions = 0;
    const kmsDown = variantApp(stack, {
      providers: createProviders(stack.config.providers),
      cipher: {
        encrypt: async () => {
          encryptions += 1;
          throw new Error('KMS out of reach');
        },
        decrypt: async () => {
          throw new Error('KMS out of reach');
        },
        forget: () => {},
      },
    });
    const retrying = travellerOver(async (path, init) => kmsDown.request(path, init), account);
    const replay = await retrying.book(body, key);
    expect(replay.status).toBe(200);
    expect(((await replay.json()) as { bookingId: string }).bookingId).toBe(bookingId);
    expect((await retrying.book({ ...body, notes: 'another body' }, key)).status).toBe(422);
    expect(encryptions).toBe(0);
  });
});

describe('codec payloads that do not decrypt are the caller\'s mistake (finding 6)', () => {
  const b64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('base64');
  const asJson = (p: Payload) => ({ metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])), data: b64(p.data) });
  type PayloadJson = ReturnType<typeof asJson>;
  const CONTEXT = { purpose: 'temporal-payloads' };
  const decode = (app: { request: Stack['app']['request'] }, auth: Record<string, string>, payloads: PayloadJson[]) =>
    app.request('/codec/decode', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ payloads }) });

  /** A payload another process wrote (its own data key, so the reader must unwrap it at KMS). */
  async function written(value: unknown): Promise<PayloadJson> {
    const writer = await createEncryptionCodec(stack.keys);
    return asJson((await writer.encode([defaultPayloadConverter.toPayload(value)]))[0]!);
  }
  /**
   * Wrapped keys KMS refuses: a genuine one with its last byte flipped (InvalidCiphertextException), and
   * random bytes naming no key (AccessDeniedException). The random blob's first byte (the length of the
   * key id inside it) stays below 250: local-kms adds that length up in a uint8, and from 250 on the
   * sum wraps, its bounds check passes and the request panics (a dropped connection, which is a 503, as
   * an unreachable KMS must be; AWS KMS refuses such a blob).
   */
  const refusedKeys = (ok: PayloadJson) => {
    const genuine = Buffer.from(ok.metadata['encryption-wrapped-key']!, 'base64');
    const tampered = Buffer.from(genuine);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1;
    const random = randomBytes(184);
    random[0] = random[0]! % 200;
    return { tampered: b64(tampered), random: b64(random) };
  };
  /** Bytes that are no Payload message, encrypted under a genuine data key. */
  async function sealedGarbage(ok: PayloadJson): Promise<PayloadJson> {
    const { plaintext, wrapped } = await stack.keys.generateDataKey(CONTEXT);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', plaintext, iv);
    const body = Buffer.concat([cipher.update(Buffer.from([0xff, 0xff, 0xff, 0xff])), cipher.final(), cipher.getAuthTag()]);
    return { metadata: { ...ok.metadata, 'encryption-wrapped-key': b64(wrapped) }, data: b64(Buffer.concat([iv, body])) };
  }

  it('answers 400 naming the payload for short data, a failed tag, a refused wrapped key and bytes that are no payload', async () => {
    const operator = await signIn(stack, { role: 'support' });
    const ok = await written('fine');
    const data = Buffer.from(ok.data, 'base64');
    const tampered = Buffer.from(data);
    tampered[20] = tampered[20]! ^ 1;
    const cases: Array<[string, PayloadJson]> = [
      ['data shorter than IV and tag', { ...ok, data: b64(Buffer.from('short')) }],
      ['no data at all', { metadata: ok.metadata, data: '' }],
      ['a flipped ciphertext bit', { ...ok, data: b64(tampered) }],
      ['a tampered wrapped key', { ...ok, metadata: { ...ok.metadata, 'encryption-wrapped-key': refusedKeys(ok).tampered } }],
      ['a wrapped key naming no KMS key', { ...ok, metadata: { ...ok.metadata, 'encryption-wrapped-key': refusedKeys(ok).random } }],
      ['no wrapped key', { ...ok, metadata: { encoding: ok.metadata.encoding! } }],
      ['bytes that are no payload', await sealedGarbage(ok)],
    ];
    for (const [what, bad] of cases) {
      const response = await decode(stack.app, operator.auth, [ok, bad]);
      const text = await response.text();
      expect(response.status, `${what}: ${text}`).toBe(400);
      const problem = JSON.parse(text) as { code: string; errors?: Array<{ path: string }> };
      expect(problem.code).toBe('VALIDATION_FAILED');
      expect(problem.errors?.map((e) => e.path), what).toEqual(['payloads.1']);
    }
  });

  it('asks KMS once about a wrapped key it refused, however often it is sent again', async () => {
    let decrypts = 0;
    const counting: KeyService = {
      generateDataKey: (context) => stack.keys.generateDataKey(context),
      decryptDataKey: (wrapped, context) => {
        decrypts += 1;
        return stack.keys.decryptDataKey(wrapped, context);
      },
    };
    const app = variantApp(stack, { codec: await createEncryptionCodec(counting) });
    const operator = await signIn(stack, { role: 'support' });
    const ok = await written('fine');
    for (const refused of Object.values(refusedKeys(ok))) {
      const bogus = { ...ok, metadata: { ...ok.metadata, 'encryption-wrapped-key': refused } };
      for (let i = 0; i < 5; i += 1) expect((await decode(app, operator.auth, [bogus])).status).toBe(400);
    }
    expect(decrypts).toBe(2);
  });

  it('answers 503 when KMS cannot be reached', async () => {
    const dead = createKmsKeyService({ ...stack.config.kms, endpoint: 'http://127.0.0.1:9' });
    try {
      const keys: KeyService = { generateDataKey: (context) => stack.keys.generateDataKey(context), decryptDataKey: (w, c) => dead.decryptDataKey(w, c) };
      const app = variantApp(stack, { codec: await createEncryptionCodec(keys) });
      const operator = await signIn(stack, { role: 'support' });
      const response = await decode(app, operator.auth, [await written('fine')]);
      expect(response.status).toBe(503);
      expect(((await response.json()) as { code: string }).code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      dead.destroy();
    }
  });
});

describe('limits on writes fail closed without Redis (finding 7)', () => {
  it('refuses booking, booking changes and codec calls with 503 when the limiter cannot count; search stays open', async () => {
    const dead = createRedis({ url: 'redis://127.0.0.1:1', keyPrefix: 'dead:' });
    try {
      const app = variantApp(stack, { auth: { ...stack.auth, limiter: createSlidingWindowLimiter(dead) }, codec: await createEncryptionCodec(stack.keys) });
      const traveller = await signIn(stack);
      const operator = await signIn(stack, { role: 'support' });
      const json = { 'content-type': 'application/json' };
      const book = await app.request('/api/v1/bookings', {
        method: 'POST', headers: { ...traveller.auth, ...json, 'idempotency-key': randomUUID() },
        body: JSON.stringify({
          offers: [{ offerId: 'sandbox:JFK-LHR:1', expectedPrice: { amount: '420.00', currency: 'EUR' } }],
          passengers: [{ givenName: 'Ada', familyName: 'Lovelace', dateOfBirth: '1985-12-10', passportNumber: 'X1234567', passportCountry: 'GB', nationality: 'GB' }],
          contact: { email: 'ada@example.com', phone: '+447700900123' },
          paymentMethodId: 'pm_card_visa',
        }),
      });
      const change = await app.request(`/api/v1/bookings/${randomUUID()}`, { method: 'PATCH', headers: { ...traveller.auth, ...json }, body: JSON.stringify({ notes: 'x' }) });
      const cancel = await app.request(`/api/v1/bookings/${randomUUID()}/cancel`, { method: 'POST', headers: { ...traveller.auth, 'idempotency-key': randomUUID() } });
      const codec = await app.request('/codec/decode', { method: 'POST', headers: { ...operator.auth, ...json }, body: JSON.stringify({ payloads: [] }) });
      expect([book.status, change.status, cancel.status, codec.status]).toEqual([503, 503, 503, 503]);
      const search = await app.request('/api/v1/search/flights?origin=JFK&destination=LHR&departureDate=2027-03-01', { headers: traveller.auth });
      expect(search.status).not.toBe(503);
    } finally {
      dead.disconnect();
    }
  });
});

describe('the account export is audited and limited (finding 8)', () => {
  it('audits each export with who and where, and answers the sixth in an hour with 429', async () => {
    const traveller = await signIn(stack);
    const client = httpClient(stack.apiUrl);
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 6; i += 1) {
      const response = await client.call('GET', '/api/v1/users/me/export', { headers: { ...traveller.auth, 'user-agent': 'export-test/1.0' } });
      statuses.push(response.status);
      if (response.status === 429) refused = response;
      else await response.body?.cancel();
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const rows = await auditRows({ actor: `user:${traveller.userId}`, action: 'account.export' });
    expect(rows).toHaveLength(5);
    expect(rows[0]).toMatchObject({ resource: `user:${traveller.userId}`, result: 'success', ip: client.ip, userAgent: 'export-test/1.0' });
  });
});
