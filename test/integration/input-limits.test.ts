import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../api/middleware/body.js';
import { brokenLink } from '../../infra/audit/audit-chain.js';
import { AuditEntry } from '../../infra/db/entities.js';
import { createOrm } from '../../infra/db/orm.js';
import { httpClient } from '../support/http-client.js';
import { chunked, RawConnection, type RawResponse } from '../support/raw-http.js';
import { travellerOf } from '../support/booking-client.js';
import { signIn } from '../support/sign-in.js';
import { scanSql, sqlCalls } from '../support/sql-scan.js';
import { startStack, variantApp, type Stack } from '../support/stack.js';

// SECURITY.md §15–17 where api-conventions.test.ts does not reach: the body limit over a real
// socket (honest, chunked and malformed Content-Length), media types on every JSON route,
// no string-built SQL, and what a real 500 shows. (Another user's booking as a 404 is there.)

type Operation = { requestBody?: { content: Record<string, unknown> }; responses: Record<string, { description?: string }> };
let stack: Stack;
let jsonRoutes: Array<{ method: string; path: string }>;
beforeAll(async () => {
  stack = await startStack();
  const document = (await (await stack.app.request('/openapi.json')).json()) as { paths: Record<string, Record<string, Operation>> };
  jsonRoutes = Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations)
      .filter(([, operation]) => operation.requestBody?.content['application/json'])
      .map(([method]) => ({ method: method.toUpperCase(), path: path.replace('{id}', randomUUID()) })),
  );
});
afterAll(async () => {
  await stack?.stop();
});

async function expectProblem(response: Response | RawResponse, status: number, code: string) {
  const headers = response instanceof Response ? Object.fromEntries(response.headers) : response.headers;
  const text = response instanceof Response ? await response.text() : response.body;
  expect(response.status, text).toBe(status);
  expect(headers['content-type']).toContain('application/problem+json');
  const problem = JSON.parse(text) as Record<string, unknown>;
  expect(problem).toMatchObject({ status, code });
  expect(problem.requestId).toBe(headers['x-request-id']);
  return problem;
}

const post = (path: string, length: number | string, extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${extra}\r\n`;
const healthz = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

describe('request bodies (SECURITY.md §15)', () => {
  it('refuses a body over 1 MiB with an honest Content-Length, on every JSON route', async () => {
    expect(jsonRoutes.length).toBeGreaterThanOrEqual(8);
    for (const { method, path } of jsonRoutes) {
      for (const size of [MAX_BODY_BYTES + 1, 4 * MAX_BODY_BYTES]) {
        const body = `{"notes":"${'x'.repeat(size - 12)}"}`;
        expect(Buffer.byteLength(body)).toBe(size);
        await expectProblem(await httpClient(stack.apiUrl).call(method, path, { body }), 413, 'PAYLOAD_TOO_LARGE');
      }
    }
    // Exactly 1 MiB is not over the limit: the validator judges it.
    const atLimit = `{"email":"${'x'.repeat(MAX_BODY_BYTES - 12)}"}`;
    await expectProblem(await httpClient(stack.apiUrl).call('POST', '/api/v1/auth/login', { body: atLimit }), 400, 'VALIDATION_FAILED');
  });

  it('keeps the connection usable after refusing a large body it did not read', async () => {
    const connection = await RawConnection.open(stack.apiUrl);
    try {
      // 401 before the body is read, then 413 from the header alone: the unread bytes are drained.
      const body = `{"notes":"${'x'.repeat(800_000)}"}`;
      await connection.send(post('/api/v1/bookings', Buffer.byteLength(body)), [body], { complete: true });
      await expectProblem(await connection.response(), 401, 'UNAUTHENTICATED');
      await connection.send(healthz);
      expect((await connection.response()).status).toBe(200);

      await connection.send(post('/api/v1/auth/login', 3 * MAX_BODY_BYTES), [Buffer.alloc(3 * MAX_BODY_BYTES, 0x20)], { complete: true });
      await expectProblem(await connection.response(), 413, 'PAYLOAD_TOO_LARGE');
      await connection.send(healthz);
      expect((await connection.response()).status).toBe(200);
    } finally {
      connection.close();
    }
  });

  it('refuses a chunked body (no Content-Length) once it passes 1 MiB', async () => {
    const head = 'POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    const over = await RawConnection.open(stack.apiUrl);
    const started = Date.now();
    await over.send(head, chunked(16 * MAX_BODY_BYTES));
    await expectProblem(await over.response(), 413, 'PAYLOAD_TOO_LARGE');
    expect(Date.now() - started).toBeLessThan(5_000);
    over.close();

    // Exactly 1 MiB in chunks is read to the end and judged by the validator (blank JSON: 400).
    const at = await RawConnection.open(stack.apiUrl);
    await at.send(head, chunked(MAX_BODY_BYTES), { complete: true });
    await expectProblem(await at.response(), 400, 'VALIDATION_FAILED');
    at.close();
  });

  it('answers a malformed Content-Length with a 4xx, never a 500 or a hang', async () => {
    const body = Buffer.alloc(2 * MAX_BODY_BYTES, 0x20);
    const cases: Array<{ name: string; head: string; problem?: string }> = [
      { name: 'not a number', head: post('/api/v1/auth/login', 'abc') },
      { name: 'negative', head: post('/api/v1/auth/login', '-1') },
      { name: 'exponent', head: post('/api/v1/auth/login', '1e6') },
      { name: 'list of two values', head: post('/api/v1/auth/login', `12, ${body.length}`) },
      { name: 'two headers that disagree', head: post('/api/v1/auth/login', 12, `Content-Length: ${body.length}\r\n`) },
      { name: 'beside Transfer-Encoding: chunked', head: post('/api/v1/auth/login', body.length, 'Transfer-Encoding: chunked\r\n') },
      { name: 'beyond 64 bits', head: post('/api/v1/auth/login', '99999999999999999999999') },
      { name: 'a terabyte, body never sent', head: post('/api/v1/auth/login', 2 ** 40), problem: 'PAYLOAD_TOO_LARGE' },
      // The rest of the body then reads as a broken next request: Node's own 400 may come first.
      { name: 'smaller than the body sent', head: post('/api/v1/auth/login', 5) },
    ];
    for (const { name, head, problem } of cases) {
      const connection = await RawConnection.open(stack.apiUrl);
      try {
        await connection.send(head, [body]);
        const response = await connection.response();
        expect(response.status, `${name}: ${response.status} ${response.body}`).toBeGreaterThanOrEqual(400);
        expect(response.status, `${name}: ${response.status} ${response.body}`).toBeLessThan(500);
        if (problem) await expectProblem(response, response.status, problem);
      } finally {
        connection.close();
      }
    }
    expect((await fetch(`${stack.apiUrl}/healthz`)).status).toBe(200);
  });
});

describe('media types (SECURITY.md §15)', () => {
  it('accepts only application/json on every JSON route (415 otherwise)', async () => {
    const json = JSON.stringify({ email: 'ada@example.test', password: 'correct horse battery staple 42' });
    const form = () => {
      const data = new FormData();
      data.set('email', 'ada@example.test');
      return data;
    };
    const bodies: Array<{ type: string; body: () => NonNullable<RequestInit['body']>; headers?: Record<string, string> }> = [
      { type: 'text/plain', body: () => json, headers: { 'content-type': 'text/plain' } },
      { type: 'form', body: () => new URLSearchParams({ email: 'ada@example.test' }) },
      { type: 'multipart', body: form },
      { type: 'none', body: () => new TextEncoder().encode(json) },
      { type: 'vendor +json', body: () => json, headers: { 'content-type': 'application/vnd.api+json' } },
      { type: 'text/json', body: () => json, headers: { 'content-type': 'text/json' } },
    ];
    const { auth } = await signIn(stack);
    for (const { method, path } of jsonRoutes) {
      for (const { type, body, headers } of bodies) {
        const response = await fetch(`${stack.apiUrl}${path}`, { method, headers: { ...auth, 'x-forwarded-for': `10.9.${Math.floor(Math.random() * 250)}.1`, ...headers }, body: body() });
        expect(response.status, `${method} ${path} with ${type}`).toBe(415);
        await expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
      }
    }
    // The same media type in other spellings is JSON.
    for (const type of ['application/json; charset=utf-8', 'Application/JSON']) {
      const response = await fetch(`${stack.apiUrl}/api/v1/users/me`, { method: 'PATCH', headers: { ...auth, 'content-type': type }, body: JSON.stringify({ name: 'Ada King' }) });
      expect(response.status, type).toBe(200);
    }
    // A DELETE without a body (no Content-Length, no Transfer-Encoding) has no media type to judge.
    const revoke = await fetch(`${stack.apiUrl}/api/v1/auth/sessions/${randomUUID()}`, { method: 'DELETE', headers: auth });
    await expectProblem(revoke, 404, 'NOT_FOUND');
  });
});

describe('SQL (SECURITY.md §16)', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));

  it('builds no SQL from strings in production code: every value is a ? parameter', () => {
    const calls = scanSql(root, ['api', 'activities', 'infra', 'workflows', 'workers', 'domain']);
    expect(calls.length, 'the scan found the SQL call sites').toBeGreaterThanOrEqual(5);
    const offenders = calls.filter((c) => c.built).map((c) => `${c.file}:${c.line}: ${c.code}`);
    expect(offenders, `string-built SQL:\n${offenders.join('\n')}`).toEqual([]);
  });

  it('the scan catches interpolated values, concatenation and assembled variables, and passes constant text', () => {
    const fixture = [
      "await em.execute('select * from users where id = ?', [id]);",
      'await em.getConnection().execute(`select * from users where id = \'${id}\'`);',
      "await em.execute('select * from users where email = ' + email);",
      'const sql = `delete from sessions where user_id = ${userId}`;',
      'await knex.raw(sql);',
      "let q = 'select 1'; q += ` where x = ${x}`;",
      'await pool.query(q);',
      "await qb.whereRaw(flag ? `a = ${a}` : 'true');",
      "await em.execute(['select', column, 'from users'].join(' '));",
      'await em.execute(`select count(*) from bookings`);',
      "const CONSTANT = 'select 1'; await em.execute(CONSTANT);",
      "for (const statement of ['delete from a where id = ?', `delete from ${table}`]) await connection.execute(statement, [id]);",
      "for (const constant of ['delete from a where id = ?', 'delete from b']) await connection.execute(constant, [id]);",
      'const COLUMNS = `id, email`; await em.execute(`select ${COLUMNS} from users where id = ?`, [id]);',
      "let columns = 'id'; await em.execute(`select ${columns} from users`);",
      'await em.execute(`select * from ${table} where id = ?`, [id]);',
    ].join('\n');
    const found = sqlCalls('fixture.ts', fixture);
    expect(found.filter((c) => c.built).map((c) => c.line)).toEqual([2, 3, 5, 7, 8, 9, 12, 15, 16]);
    expect(found.filter((c) => !c.built).map((c) => c.line)).toEqual([1, 10, 11, 13, 14]);
  });
});

describe('errors (SECURITY.md §17)', () => {
  it('renders a real 500 as problem+json INTERNAL with the request id, and nothing of the failure', async () => {
    // An app whose database pool is gone: every query fails inside MikroORM/knex/pg.
    const closed = await createOrm(stack.config.database);
    await closed.close();
    const logged: Array<{ requestId?: string; msg?: string; err?: { message?: string; type?: string; stack?: string } }> = [];
    const app = variantApp(stack, {
      log: pino({ level: 'error' }, { write: (line: string) => logged.push(JSON.parse(line)) }),
      orm: closed,
    });
    const { auth } = await signIn(stack);

    for (const path of [`/api/v1/bookings/${randomUUID()}`, '/api/v1/users/me']) {
      const response = await app.request(path, { headers: auth });
      const problem = await expectProblem(response, 500, 'INTERNAL');
      expect(Object.keys(problem).sort()).toEqual(['code', 'requestId', 'status', 'title', 'type']);
      expect(problem.type).toBe('https://travelconnect.dev/problems/internal');
      // Everything but the fixed type URL (whose host could pass for a development password).
      const text = JSON.stringify({ ...problem, type: undefined });

      // The failure is in the server log under the same request id, and only there.
      const entry = logged.find((line) => line.requestId === problem.requestId && line.err);
      expect(entry?.err?.message, 'the forced failure was logged').toBeTruthy();
      const { database, stripe, audit, auth: authConfig } = stack.config;
      const secrets = [
        database.url, new URL(database.url).password, stripe.secretKey, stripe.webhookSecret, audit.hmacKey, authConfig.hmacKey,
        ...authConfig.signingKeys.map((k) => k.secretBase64url),
      ].filter((s) => s.length >= 6);
      const stackLine = entry!.err!.stack!.split('\n').find((l) => l.trim().startsWith('at '))!.trim();
      for (const leak of [entry!.err!.message!, entry!.err!.type ?? 'Error', stackLine, ...secrets]) expect(text).not.toContain(leak);
      for (const leak of [/\bat /, /\.[jt]s\b/, /node_modules/, /\/work\//, /\bselect\b/i, /postgres|mikro|knex|pool/i]) expect(text).not.toMatch(leak);
    }
  });
});

describe('no input turns a refusal into a 500 (SECURITY.md §37)', () => {
  it('refuses a user at an admin path of any length or content with a 404, and audits every denial', async () => {
    const traveller = await signIn(stack);
    const paths = [
      `/api/v1/admin/${'a'.repeat(300)}`, // wider than audit_log.resource
      `/api/v1/admin/${'%F0%9F%98%80'.repeat(100)}`, // decoded: 100 characters outside the BMP
      '/api/v1/admin/%00', // decoded: NUL, which Postgres text refuses
    ];
    for (const path of paths) {
      await expectProblem(await httpClient(stack.apiUrl).call('GET', path, { headers: traveller.auth }), 404, 'NOT_FOUND');
    }
    const rows = await stack.orm.em.fork().find(AuditEntry, { actor: `user:${traveller.userId}`, action: 'authz.role' }, { orderBy: { seq: 'asc' } });
    expect(rows.map((row) => row.result)).toEqual(['denied', 'denied', 'denied']);
    const [long, wide, nul] = rows;
    expect(long!.resource).toMatch(/^GET \/api\/v1\/admin\/a{100,}\.\.\.\[truncated\]$/);
    expect(long!.resource).toHaveLength(200);
    expect(wide!.resource).toMatch(/^GET \/api\/v1\/admin\/(%F0%9F%98%80)+%?[0-9A-F]*\.\.\.\[truncated\]$/);
    expect(nul!.resource).toBe('GET /api/v1/admin/%00');
    // Stored exactly as MACed: the chain still verifies over these rows.
    for (const row of rows) expect(brokenLink(stack.config.audit.hmacKey, row.prevMac, row)).toBeNull();
  });

  it('answers a header over Node\'s 16 KiB limit with 431, and a long one under it is judged by the app', async () => {
    const huge = 'a'.repeat(20 * 1024);
    for (const header of [`Cookie: __Host-tc_access=${huge}`, `Authorization: Bearer ${huge}`, `User-Agent: ${huge}`]) {
      const connection = await RawConnection.open(stack.apiUrl);
      try {
        await connection.send(`GET /api/v1/users/me HTTP/1.1\r\nHost: 127.0.0.1\r\n${header}\r\n\r\n`);
        const response = await connection.response();
        expect(response.status, header.slice(0, 30)).toBe(431);
      } finally {
        connection.close();
      }
    }
    const long = 'a'.repeat(12 * 1024);
    await expectProblem(await httpClient(stack.apiUrl).call('GET', '/api/v1/users/me', { headers: { authorization: `Bearer ${long}` } }), 401, 'UNAUTHENTICATED');
    await expectProblem(await httpClient(stack.apiUrl).call('GET', '/api/v1/users/me', { headers: { cookie: `__Host-tc_access=${long}` } }), 401, 'UNAUTHENTICATED');
    // A long User-Agent on an audited denial: the row keeps the start of it.
    const traveller = await signIn(stack);
    await expectProblem(await httpClient(stack.apiUrl).call('GET', '/api/v1/admin/audit', { headers: { ...traveller.auth, 'user-agent': long } }), 404, 'NOT_FOUND');
    const [row] = await stack.orm.em.fork().find(AuditEntry, { actor: `user:${traveller.userId}`, action: 'authz.role' });
    expect(row?.userAgent).toMatch(/^a+\.\.\.\[truncated\]$/);
    expect((await fetch(`${stack.apiUrl}/healthz`)).status).toBe(200);
  });

  it('refuses money with more decimals than its currency has with a 400 at the field, and writes no booking', async () => {
    const traveller = await travellerOf(stack);
    const body = await traveller.bookingBody();
    const cases = [
      { amount: '100.5', currency: 'JPY' },
      { amount: '100.00', currency: 'JPY' },
      { amount: '100.555', currency: 'EUR' },
    ];
    for (const expectedPrice of cases) {
      const response = await httpClient(stack.apiUrl).call('POST', '/api/v1/bookings', {
        headers: { ...traveller.auth, 'idempotency-key': randomUUID() },
        body: { ...body, offers: [{ offerId: body.offers[0]!.offerId, expectedPrice }] },
      });
      const problem = await expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(problem.errors, JSON.stringify(expectedPrice)).toEqual([expect.objectContaining({ path: 'offers.0.expectedPrice.amount' })]);
    }
    const [row] = await stack.orm.em.fork().getConnection().execute<Array<{ count: number }>>('select count(*)::int as count from bookings where user_id = ?', [traveller.userId]);
    expect(row?.count).toBe(0);
  });
});

