import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { signIn } from '../support/sign-in.js';
import { json } from '../support/booking-client.js';

type Operation = { requestBody?: unknown; parameters?: Array<{ in: string; name: string; required?: boolean }> };
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

let stack: Stack;
let document: Document;
beforeAll(async () => {
  stack = await startStack();
  document = (await json(await stack.app.request('/openapi.json'))) as Document;
});
afterAll(async () => {
  await stack?.stop();
});

const SELF = new Set(['/openapi.json', '/docs', '/docs/assets/:file']);
const BROWSER = '/usr/bin/chromium';

/** A Content-Security-Policy header as directive → sources. */
function parseCsp(header: string | null): Record<string, string[]> {
  return Object.fromEntries((header ?? '').split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([name, ...sources]) => [name!, sources]));
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0');
    const result = await new Validator().validate(document as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('publishes patterns as JSON Schema regexes (no delimiters or flags) that mean what the server checks', () => {
    const patterns: string[] = [];
    JSON.stringify(document, (key, value: unknown) => {
      if (key === 'pattern' && typeof value === 'string') patterns.push(value);
      return value;
    });
    expect(patterns.length).toBeGreaterThan(5);
    for (const pattern of patterns) {
      expect(pattern, pattern).not.toMatch(/\/[a-z]+$/);
      expect(() => new RegExp(pattern, 'u'), pattern).not.toThrow();
    }
    // The names' pattern keeps its meaning: letters of every script, not ASCII only.
    const names = patterns.filter((p) => p.includes('\\p{L}'));
    expect(names.length).toBeGreaterThan(0);
    for (const pattern of names) expect(new RegExp(pattern, 'u').test("Zoë O'Brien-Łukasiewicz")).toBe(true);
  });

  it('says what money amounts the server accepts: the pattern, and the decimals per currency (SECURITY.md §37)', () => {
    type Schema = { properties?: Record<string, Schema>; items?: Schema; $ref?: string; pattern?: string; description?: string };
    const schemas = (document as Document & { components?: { schemas?: Record<string, Schema> } }).components?.schemas ?? {};
    const deref = (schema: Schema): Schema => (schema.$ref ? deref(schemas[schema.$ref.split('/').pop()!]!) : schema);
    const body = (document.paths['/api/v1/bookings']!.post!.requestBody as { content: Record<string, { schema: Schema }> }).content['application/json']!.schema;
    const amount = deref(deref(deref(deref(body).properties!.offers!).items!).properties!.expectedPrice!).properties!.amount!;
    expect(amount.pattern).toBe('^\\d{1,9}(\\.\\d{1,2})?$');
    expect(amount.description).toMatch(/JPY 0/);
    expect(amount.description).toMatch(/EUR 2/);
  });

  it('lists every route the app serves, and nothing it does not', () => {
    const served = stack.app.routes
      .filter((r) => r.method !== 'ALL' && !SELF.has(r.path))
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
    const documented = Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`));
    expect(new Set(documented)).toEqual(new Set(served));
    expect(served.length).toBeGreaterThanOrEqual(8);
  });

  it('answers invalid input to every documented operation with 4xx problem+json', async () => {
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const takesInput = operation.requestBody || operation.parameters?.some((p) => p.in === 'query');
        if (!takesInput) continue;
        const url = `${path.replace('{id}', randomUUID())}${operation.parameters?.some((p) => p.in === 'query') ? '?unknown=1&adults=many' : ''}`;
        const response = await stack.app.request(url, {
          method: method.toUpperCase(),
          headers: { 'content-type': 'application/json', ...(await signIn(stack)).auth, 'idempotency-key': randomUUID() },
          ...(method === 'get' ? {} : { body: JSON.stringify({ __proto__: { admin: true }, unexpected: '<script>' }) }),
        });
        expect(response.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
        expect(response.status, `${method} ${path}`).toBeLessThan(500);
        expect(response.headers.get('content-type'), `${method} ${path}`).toContain('application/problem+json');
      }
    }
  });

  it('is served with an interactive reference at /docs', async () => {
    const docs = await stack.app.request('/docs');
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toContain('text/html');
    expect(await docs.text()).toContain('/openapi.json');
  });
});

describe('the reference page (SECURITY.md §38)', () => {
  it('loads only scripts of our own origin, under a CSP of its own without inline script or any other host', async () => {
    const docs = await fetch(`${stack.apiUrl}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toContain('text/html');
    const csp = parseCsp(docs.headers.get('content-security-policy'));
    expect(csp['default-src']).toEqual(["'none'"]);
    expect(csp['script-src']).toEqual(["'self'"]);
    for (const directive of ['frame-ancestors', 'base-uri', 'form-action']) expect(csp[directive], directive).toEqual(["'none'"]);
    // Keywords and data: only (data: for images alone): no host, no scheme a third party could serve from.
    for (const [directive, sources] of Object.entries(csp)) {
      for (const source of sources) expect(source, directive).toMatch(directive === 'img-src' ? /^'[a-z-]+'$|^data:$/ : /^'[a-z-]+'$/);
    }

    const html = await docs.text();
    expect(html).toContain('/openapi.json');
    expect(html.match(/\/\/[a-z0-9.-]+/gi) ?? [], 'no host in the page').toEqual([]);
    expect(html).not.toMatch(/\son[a-z]+\s*=|javascript:/i); // no inline handlers either
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, inline] of scripts) {
      expect(inline!.trim(), 'inline script').toBe('');
      const src = /\bsrc="([^"]+)"/.exec(attributes!)?.[1];
      expect(src, 'script without src').toBeDefined();
      const url = new URL(src!, `${stack.apiUrl}/docs`);
      expect(url.origin).toBe(stack.apiUrl);
      const script = await fetch(url);
      expect(script.status, url.pathname).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/^text\/javascript\b/);
      expect(script.headers.get('x-content-type-options')).toBe('nosniff');
      expect(script.headers.get('cache-control')).toContain('immutable');
      expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    }
    const missing = await fetch(`${stack.apiUrl}/docs/assets/standalone.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    // The page's policy is its own: every other response keeps the locked-down one.
    expect((await fetch(`${stack.apiUrl}/openapi.json`)).headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  // Only where a browser is already installed (none is installed for this).
  it.skipIf(!existsSync(BROWSER))('renders the operations in a real browser under that policy', async () => {
    const { stdout } = await promisify(execFile)(
      BROWSER,
      ['--headless', '--no-sandbox', '--disable-gpu', '--virtual-time-budget=15000', '--dump-dom', `${stack.apiUrl}/docs`],
      { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
    );
    // Text that only the rendered document holds (the page itself has none of it).
    expect(stdout).toContain('Liveness: the process answers');
    expect(stdout).toContain('/api/v1/bookings');
  }, 90_000);
});
