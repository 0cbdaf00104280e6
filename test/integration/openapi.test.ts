import { randomUUID } from 'node:crypto';
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

const SELF = new Set(['/openapi.json', '/docs']);

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
