import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../api/middleware/body.js';
import { TEST_PASSWORD } from '../support/http-account.js';
import { httpClient } from '../support/http-client.js';
import { hostileString, percentEncode, type FieldSchema } from '../support/hostile-input.js';
import { hostileBodies, hostileQueries, withControlCharacters, type BodySchema, type QueryParameter } from '../support/hostile-requests.js';
import { signIn, type Role } from '../support/sign-in.js';
import { startStack, type Stack } from '../support/stack.js';

// SECURITY.md §14: every request schema the app documents, fed invalid and hostile input over
// HTTP. Each generated request is invalid by construction, so each must be refused, with a
// problem document that gives nothing away, and nothing may reach the database.

type Operation = {
  parameters?: Array<QueryParameter & { in: string }>;
  requestBody?: { content: Record<string, { schema: BodySchema }> };
  responses: Record<string, { description?: string }>;
};
type Document = { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, unknown> } };

const RUNS = Number(process.env.HOSTILE_INPUT_RUNS ?? 40);
// Bodies stay under the 1 MiB limit (input-limits.test.ts covers 413): every refusal is the validator's or a rate limit's.
const ACCEPTED_CODES = new Set(['VALIDATION_FAILED', 'RATE_LIMITED']);
// Internals a problem document must never show, once the caller's own input it may echo is taken out.
// Stack frames look like "at fn (file:1:2)" or "at /path"; a bare "at " is also plain English ("at most 14 nights").
const LEAKS = [/\n\s*at |\bat \S+ \(|\bat (?:file:|node:|\/)/, /\.ts:/, /node_modules/, /\bselect\b/i, /syntax error/i, /\/work\//, /file:\/\//, /\b(?:Type|Syntax|Range|Reference)Error\b/, /Unexpected token/, /JSON\.parse/];

const passenger = { givenName: 'Ada', familyName: 'Lovelace', dateOfBirth: '1985-12-10', passportNumber: 'X12345678', passportCountry: 'GB', nationality: 'GB' };
const EXAMPLE_BODIES: Record<string, Record<string, unknown>> = {
  'patch /api/v1/bookings/{id}': { notes: 'Window seat', contact: { email: 'ada@example.test', phone: '+447700900123' } },
  'post /api/v1/auth/signup': { email: 'ada@example.test', password: TEST_PASSWORD, name: 'Ada Lovelace', phone: '+447700900123' },
  'post /api/v1/auth/verify-email': { token: 'A'.repeat(43), password: TEST_PASSWORD, tokenDelivery: 'body' },
  'post /api/v1/auth/login': { email: 'ada@example.test', password: TEST_PASSWORD, captchaToken: 'token', tokenDelivery: 'body' },
  'post /api/v1/auth/refresh': { refreshToken: 'A'.repeat(43), tokenDelivery: 'body' },
  'post /api/v1/auth/password-reset/request': { email: 'ada@example.test' },
  'post /api/v1/auth/password-reset/confirm': { token: 'A'.repeat(43), newPassword: 'another long passphrase 99' },
  'patch /api/v1/users/me': { name: 'Ada King', phone: '+447700900124' },
  'delete /api/v1/users/me': { password: TEST_PASSWORD },
  'post /api/v1/admin/users/{id}/role': { role: 'support' },
  'post /api/v1/admin/cases/{id}/resolve': { resolution: 'Released the hold at the supplier by hand.', undo: 'void-payment' },
  'post /api/v1/admin/bookings/{id}/refund': { amount: { amount: '10.00', currency: 'EUR' }, reason: 'Goodwill after a schedule change.' },
  'post /codec/decode': { payloads: [{ metadata: { encoding: 'YmluYXJ5L2VuY3J5cHRlZA==' }, data: 'AAECAw==' }] },
  'post /codec/encode': { payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: 'IkFkYSI=' }] },
  'post /api/v1/bookings': {
    offers: [{ offerId: 'sandbox:JFK-LHR:1', expectedPrice: { amount: '420.00', currency: 'EUR' } }],
    passengers: [passenger],
    contact: { email: 'ada@example.test', phone: '+447700900123' },
    paymentMethodId: 'pm_card_visa',
    notes: 'Window seat, please.',
  },
};
const EXAMPLE_QUERIES: Record<string, Record<string, string>> = {
  'get /api/v1/search/flights': { origin: 'JFK', destination: 'LHR', departureDate: '2027-03-01', returnDate: '2027-03-08', adults: '2', cabin: 'economy' },
  'get /api/v1/search/hotels': { city: 'LON', checkIn: '2027-03-01', checkOut: '2027-03-04', guests: '2' },
  'get /api/v1/dev/outbox': { to: 'ada@example.test' },
};
const MAIN_OPERATIONS = ['post /api/v1/auth/signup', 'post /api/v1/auth/login', 'post /api/v1/bookings', 'post /api/v1/auth/password-reset/request', 'patch /api/v1/users/me', 'get /api/v1/search/flights'];
// Read before and after: none of these may gain a row from a refused request.
const ROW_COUNTS = `select (select count(*) from users)::int as users, (select count(*) from sessions)::int as sessions,
  (select count(*) from refresh_tokens)::int as refresh_tokens, (select count(*) from bookings)::int as bookings,
  (select count(*) from outbox)::int as outbox, (select count(*) from one_time_tokens)::int as one_time_tokens,
  (select count(*) from audit_log)::int as audit_log`;

let stack: Stack;
let document: Document;
beforeAll(async () => {
  stack = await startStack();
  document = (await (await stack.app.request('/openapi.json')).json()) as Document;
});
afterAll(async () => {
  await stack?.stop();
});

const rowCounts = async () => (await stack.orm.em.fork().getConnection().execute<Array<Record<string, number>>>(ROW_COUNTS))[0];

/** The schema with every `#/components/schemas/…` reference replaced by what it names. */
function dereference<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map(dereference) as T;
  if (!schema || typeof schema !== 'object') return schema;
  const ref = (schema as { $ref?: string }).$ref;
  if (ref) return dereference(document.components?.schemas?.[ref.replace('#/components/schemas/', '')] as T);
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, dereference(v)])) as T;
}

/** The documented operations that take a JSON body or query parameters. */
function operationsWithInput() {
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).flatMap(([method, operation]) => {
      const body = dereference(operation.requestBody?.content['application/json']?.schema);
      const query = (operation.parameters ?? []).filter((p) => p.in === 'query');
      if (!body && query.length === 0) return [];
      const needsAuth = Boolean(operation.responses['401']?.description?.includes('UNAUTHENTICATED'));
      // Operator routes exist only for their roles (others get 404): call them as one.
      const role: Role = path.includes('/admin/') ? 'admin' : path.startsWith('/codec/') ? 'support' : 'user';
      return [{ name: `${method} ${path}`, method: method.toUpperCase(), path, body, query, needsAuth, role }];
    }),
  );
}

/** Strings of the request as JSON-escaped text: the parts of a response that merely echo them. */
function sentStrings(text: string): string[] {
  return [...text.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!).filter((s) => s.length >= 2);
}

/** A refusal: 4xx problem+json with a code and this response's request id, showing no internals. */
async function expectRefused(name: string, response: Response, echoes: string[], expectedCodes = ACCEPTED_CODES) {
  const text = await response.text();
  const where = `${name} answered ${response.status}: ${text.slice(0, 300)}`;
  expect(response.status, where).toBeGreaterThanOrEqual(400);
  expect(response.status, where).toBeLessThan(500);
  expect(response.headers.get('content-type'), where).toContain('application/problem+json');
  const problem = JSON.parse(text) as { code?: string; requestId?: string };
  expect(expectedCodes.has(problem.code ?? ''), where).toBe(true);
  expect(problem.requestId, where).toBe(response.headers.get('x-request-id'));
  // Longest first, so an echoed key is taken out whole rather than around a shorter string.
  const scrubbed = [...echoes].sort((a, b) => b.length - a.length).reduce((rest, echo) => rest.split(echo).join(''), text);
  for (const leak of LEAKS) expect(scrubbed, `${where}\nshows ${leak}`).not.toMatch(leak);
  return problem.code!;
}

describe('hostile input (SECURITY.md §14)', () => {
  it('documents every JSON body as a strict object, at every level', () => {
    const loose: string[] = [];
    const visit = (schema: FieldSchema & { items?: FieldSchema }, where: string) => {
      if (schema.properties && schema.additionalProperties !== false) loose.push(where);
      for (const [name, child] of Object.entries(schema.properties ?? {})) visit(child, `${where}.${name}`);
      if (schema.items) visit(schema.items, `${where}[]`);
    };
    for (const op of operationsWithInput()) if (op.body) visit(op.body, op.name);
    expect(loose).toEqual([]);
  });

  it('refuses generated invalid bodies and queries on every operation with 4xx problem+json, writing nothing', async () => {
    const operations = operationsWithInput();
    expect(operations.map((o) => o.name)).toEqual(expect.arrayContaining(MAIN_OPERATIONS));

    // Callers are made before the first count. Bookings allow 20 a day per user, so each
    // operation rotates over a few; per-IP limits see a fresh client IP on every request.
    const callers = new Map<string, Array<Record<string, string>>>();
    for (const op of operations.filter((o) => o.needsAuth)) {
      callers.set(op.name, await Promise.all(Array.from({ length: Math.ceil(RUNS / 10) }, async () => (await signIn(stack, { role: op.role })).auth)));
    }
    const before = await rowCounts();
    const codes = new Map<string, string[]>();

    for (const op of operations) {
      const url = op.path.replace('{id}', randomUUID());
      const send = (target: string, body?: string) => {
        const pool = callers.get(op.name);
        const auth = pool?.[(codes.get(op.name)?.length ?? 0) % pool.length] ?? {};
        return httpClient(stack.apiUrl).call(op.method, target, { body, headers: { ...auth, 'idempotency-key': randomUUID() } });
      };
      const record = (code: string) => codes.set(op.name, [...(codes.get(op.name) ?? []), code]);
      // Every generator starts from a valid request: an operation with required input needs its example here.
      const bodyExample = EXAMPLE_BODIES[op.name] ?? (op.body?.required?.length ? undefined : {});
      const queryExample = EXAMPLE_QUERIES[op.name] ?? (op.query.some((p) => p.required) ? undefined : {});
      if (op.body) expect(bodyExample, `a valid example body for ${op.name}`).toBeDefined();
      if (op.query.length > 0) expect(queryExample, `a valid example query for ${op.name}`).toBeDefined();
      const validQuery = Object.entries(queryExample ?? {}).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');

      if (op.body) {
        await fc.assert(
          fc.asyncProperty(hostileBodies(op.body, bodyExample!).filter((text) => Buffer.byteLength(text) < MAX_BODY_BYTES), async (text) => {
            const target = op.query.length > 0 ? `${url}?${validQuery}` : url;
            record(await expectRefused(op.name, await send(target, text), sentStrings(text)));
          }),
          { numRuns: RUNS },
        );
      }
      if (op.query.length > 0 && !op.body) {
        await fc.assert(
          fc.asyncProperty(hostileQueries(op.query, queryExample!), async (query) => {
            const echoes = query.split(/[&=]/).map((part) => JSON.stringify(safeDecode(part)).slice(1, -1));
            record(await expectRefused(op.name, await send(`${url}?${query}`), echoes.filter((e) => e.length >= 2)));
          }),
          { numRuns: RUNS },
        );
      }
    }

    expect(await rowCounts()).toEqual(before);
    // Refusals must mostly be the validator's own, not a rate limit standing in for it.
    for (const [name, seen] of codes) {
      expect(seen.filter((c) => c === 'VALIDATION_FAILED').length, `${name}: ${seen.join(',')}`).toBeGreaterThanOrEqual(seen.length * 0.8);
    }
  }, 120_000);

  it('refuses a control character in every string field of every body with a 400 at that field', async () => {
    // The sample above rarely picks a given field; NUL in free text (booking notes) reached Postgres as a 500.
    const operations = operationsWithInput().filter((o) => o.body);
    const before = await rowCounts();
    for (const op of operations) {
      for (const { field, text } of withControlCharacters(op.body!, EXAMPLE_BODIES[op.name] ?? {})) {
        // A fresh caller each time: no rate limit may stand in for the validator here.
        const auth = op.needsAuth ? (await signIn(stack, { role: op.role })).auth : {};
        const response = await httpClient(stack.apiUrl).call(op.method, op.path.replace('{id}', randomUUID()), {
          body: text, headers: { ...auth, 'idempotency-key': randomUUID() },
        });
        await expectRefused(`${op.name} ${field} ${JSON.stringify(text).slice(0, 120)}`, response, sentStrings(text), new Set(['VALIDATION_FAILED']));
      }
    }
    const after = await rowCounts();
    // Only the callers made here may have added rows (users, their sessions and refresh tokens).
    const callersLeft = { users: 0, sessions: 0, refresh_tokens: 0 };
    expect({ ...after, ...callersLeft }).toEqual({ ...before, ...callersLeft });
  }, 120_000);

  it('answers hostile booking ids with a 404 problem', async () => {
    const { auth } = await signIn(stack);
    const uuidLike = fc.uuid().chain((id) => fc.constantFrom(id, id.toUpperCase(), `${id}'--`, `${id}%00`, `${id}%20OR%201=1`));
    const rawSegments = fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '%2e%2e%2f', '..%2f..%2fetc%2fpasswd', ';', "'", '*', 'null', 'undefined', '-1', '1e999', 'NaN', '0x10');
    const ids = fc.oneof(hostileString({ long: false }).filter((s) => !['', '.', '..'].includes(s)).map(percentEncode), uuidLike, rawSegments);
    await fc.assert(
      fc.asyncProperty(ids, async (id) => {
        const response = await httpClient(stack.apiUrl).call('GET', `/api/v1/bookings/${id}`, { headers: auth });
        await expectRefused(`GET /api/v1/bookings/${id.slice(0, 80)}`, response, [], new Set(['NOT_FOUND']));
        expect(response.status).toBe(404);
      }),
      { numRuns: RUNS * 2 },
    );
  }, 60_000);
});

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
