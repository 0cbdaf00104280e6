import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Booking } from '../../infra/db/entities.js';
import { startStack, variantApp, type Stack } from '../support/stack.js';
import { signIn } from '../support/sign-in.js';
import { json, travellerOf } from '../support/booking-client.js';
import { loadConfig } from '../../infra/config.js';
import { productionEnv } from '../support/production-env.js';
import { createEncryptionCodec } from '../../infra/temporal/encryption-codec.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

async function expectProblem(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const body = await json(response);
  expect(body).toMatchObject({ status, code });
  expect(body.requestId).toBe(response.headers.get('x-request-id'));
  return body;
}

describe('API conventions', () => {
  it('puts security headers and a request id on every response', async () => {
    const response = await stack.app.request('/healthz');
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('answers unknown routes with a 404 problem, and a wrong method with 405 and Allow', async () => {
    await expectProblem(await stack.app.request('/api/v1/nowhere'), 404, 'NOT_FOUND');
    const wrong = await stack.app.request(`/api/v1/bookings/${randomUUID()}`, { method: 'DELETE', headers: { ...(await signIn(stack)).auth } });
    await expectProblem(wrong, 405, 'METHOD_NOT_ALLOWED');
    expect(wrong.headers.get('allow')).toBe('GET, PATCH');
    expect((await stack.app.request('/healthz', { method: 'POST' })).status).toBe(405);
  });

  it('rejects unknown fields, bad field formats and a wrong content type, writing nothing', async () => {
    const traveller = await travellerOf(stack);
    const body = await traveller.bookingBody();
    const key = randomUUID();
    const extra = await expectProblem(await traveller.book({ ...body, isAdmin: true }, key), 400, 'VALIDATION_FAILED');
    expect(extra.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: '(root)' })]));

    const badPassport = { ...body, passengers: [{ ...body.passengers[0], passportNumber: 'AB-12' }] };
    const problem = await expectProblem(await traveller.book(badPassport, key), 400, 'VALIDATION_FAILED');
    expect(problem.errors).toEqual([expect.objectContaining({ path: 'passengers.0.passportNumber' })]);
    expect(JSON.stringify(problem)).not.toContain('AB-12');

    const badPhone = { ...body, contact: { email: 'a@example.com', phone: '07700 900123' } };
    await expectProblem(await traveller.book(badPhone, key), 400, 'VALIDATION_FAILED');

    const proto = JSON.stringify(body).replace('{', '{"__proto__":{"admin":true},');
    const protoResponse = await stack.app.request('/api/v1/bookings', {
      method: 'POST',
      headers: { ...traveller.auth, 'content-type': 'application/json', 'idempotency-key': key },
      body: proto,
    });
    await expectProblem(protoResponse, 400, 'VALIDATION_FAILED');

    const text = await stack.app.request('/api/v1/bookings', {
      method: 'POST',
      headers: { ...traveller.auth, 'content-type': 'text/plain', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
    await expectProblem(text, 415, 'UNSUPPORTED_MEDIA_TYPE');

    const malformed = await stack.app.request('/api/v1/bookings', {
      method: 'POST',
      headers: { ...traveller.auth, 'content-type': 'application/json', 'idempotency-key': key },
      body: '{"offers": [',
    });
    await expectProblem(malformed, 400, 'VALIDATION_FAILED');

    expect(await stack.orm.em.fork().count(Booking, { idempotencyKey: key })).toBe(0);
  });

  it('refuses bodies over 1 MiB with 413', async () => {
    const traveller = await travellerOf(stack);
    const response = await stack.app.request('/api/v1/bookings', {
      method: 'POST',
      headers: { ...traveller.auth, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({ notes: 'x'.repeat(1024 * 1024) }),
    });
    await expectProblem(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  it("hides another user's booking behind a 404", async () => {
    const owner = await travellerOf(stack);
    const { bookingId } = await json(await owner.book(await owner.bookingBody()));
    expect((await owner.get(bookingId)).status).toBe(200);
    await expectProblem(await (await travellerOf(stack)).get(bookingId), 404, 'NOT_FOUND');
    await owner.settled(bookingId);
  });

  it('has no development routes in production, and no X-Dev-User anywhere', async () => {
    const production = variantApp(stack, { config: loadConfig({ ...process.env, ...productionEnv() }), auth: undefined });
    await expectProblem(await production.request('/api/v1/dev/outbox?to=someone@example.test'), 404, 'NOT_FOUND');
    expect((await stack.app.request('/api/v1/dev/outbox?to=someone@example.test')).status).toBe(200); // there outside production
    // The header that identified callers before login existed is ignored: no session, no booking.
    for (const app of [production, stack.app]) {
      await expectProblem(await app.request(`/api/v1/bookings/${randomUUID()}`, { headers: { 'x-dev-user': randomUUID() } }), 401, 'UNAUTHENTICATED');
    }
  });

  it('keeps passport numbers and phones out of Postgres and the workflow history in plaintext', async () => {
    const traveller = await travellerOf(stack);
    const body = await traveller.bookingBody();
    const passport = body.passengers[0]!.passportNumber as string;
    const { bookingId } = await json(await traveller.book(body));
    await traveller.settled(bookingId);

    const row = await stack.orm.em.getConnection().execute('select row_to_json(b)::text as row from bookings b where id = ?', [bookingId]);
    const stored = String(row[0]?.row);
    expect(stored).toContain('Lovelace');
    expect(stored).not.toContain(passport);
    expect(stored).not.toContain('447700900123');
    expect(stored).not.toContain('1985-12-10');

    // The whole database as a backup would hold it.
    const database = new URL(stack.config.database.url).pathname.slice(1);
    const dump = execFileSync('runuser', ['-u', 'postgres', '--', 'pg_dump', '--data-only', '-d', database], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    expect(dump).toContain(bookingId);
    expect(dump).not.toContain(passport);
    expect(dump).not.toContain('+447700900123');

    const booking = await stack.orm.em.fork().findOneOrFail(Booking, { id: bookingId });
    const history = await stack.temporal.workflow.getHandle(booking.workflowId).fetchHistory();
    // As the Temporal server stores it: every payload is ciphertext.
    const bytes = (v: Uint8Array | string | undefined) => (typeof v === 'string' ? Buffer.from(v, 'base64') : Buffer.from(v ?? []));
    const payloads: Array<{ metadata?: Record<string, Uint8Array | string>; data?: Uint8Array | string }> = [];
    // Search attributes stay readable by design (the server indexes them); they hold no PII. So do
    // the SDK's patch markers (core writes them without the codec): only the patch's name is in them.
    const markers = JSON.stringify(history.events?.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch') ?? []);
    expect(markers).not.toContain(bookingId);
    expect(markers).not.toContain(passport);
    // Headers are not passed through the codec by the SDK; the only one we set is the OpenTelemetry
    // interceptors' trace context, which must hold a W3C traceparent and nothing else.
    const headers: Array<[string, { metadata?: Record<string, Uint8Array | string>; data?: Uint8Array | string }]> = [];
    // A local activity's marker (the saga's settled status writes) carries core's own bookkeeping as
    // plain JSON beside the result, which goes through the codec like every other payload.
    type Details = Record<string, { payloads?: Array<{ data?: Uint8Array | string }> }>;
    const localActivityBookkeeping: unknown[] = [];
    const withoutIndex = JSON.stringify(history, (key, value: unknown) => {
      if (key === 'header' && value && typeof value === 'object') {
        headers.push(...Object.entries((value as { fields?: Record<string, (typeof headers)[number][1]> }).fields ?? {}));
        return undefined;
      }
      if (key === 'markerRecordedEventAttributes' && (value as { markerName?: string }).markerName === 'core_local_activity') {
        const { data, ...rest } = (value as { details: Details }).details;
        localActivityBookkeeping.push(...(data?.payloads ?? []).map((p) => JSON.parse(bytes(p.data).toString('utf8')) as unknown));
        return { ...(value as object), details: rest };
      }
      return key === 'searchAttributes' || (key === 'markerRecordedEventAttributes' && (value as { markerName?: string }).markerName === 'core_patch') ? undefined : value;
    });
    JSON.parse(withoutIndex, (key, value: unknown) => {
      if (value && typeof value === 'object' && 'data' in value && 'metadata' in value) payloads.push(value as (typeof payloads)[number]);
      return value;
    });
    expect(payloads.length).toBeGreaterThan(5);
    const ciphertext = payloads.map((p) => bytes(p.data).toString('latin1')).join('\n');
    expect(ciphertext).not.toContain(bookingId);
    expect(ciphertext).not.toContain(passport);
    for (const [name, header] of headers) {
      expect(name).toBe('_tracer-data');
      expect(bytes(header.data).toString('utf8')).toMatch(/^\{("traceparent":"00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]")?\}$/);
    }
    expect(localActivityBookkeeping.length).toBeGreaterThan(0);
    for (const entry of localActivityBookkeeping) {
      expect(Object.keys(entry as object).sort()).toEqual(['activity_id', 'activity_type', 'attempt', 'backoff', 'complete_time', 'original_schedule_time', 'seq']);
      expect(entry).toMatchObject({ activity_type: 'setBookingStatus' });
    }
    const plain = payloads.filter((p) => bytes(p.metadata?.encoding).toString() !== 'binary/encrypted');
    expect(plain.map((p) => ({ encoding: bytes(p.metadata?.encoding).toString(), data: bytes(p.data).toString('utf8').slice(0, 200) }))).toEqual([]);

    // Through the codec, with KMS access, the same payloads read back; still no passport among them.
    const codec = await createEncryptionCodec(stack.keys);
    const decoded = await codec.decode(payloads.map((p) => ({ metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, bytes(v)])), data: bytes(p.data) })));
    const readable = decoded.map((p) => Buffer.from(p.data ?? []).toString('utf8')).join('\n');
    expect(readable).toContain(bookingId);
    expect(readable).not.toContain(passport);
    expect(readable).not.toContain('+447700900123');
  });
});
