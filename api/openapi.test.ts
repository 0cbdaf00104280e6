import { createRoute, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { createRouter, problems, withAppWideProblems } from './openapi.js';

// A document as the app builds it: one read, one write that already names some problems.
function document() {
  const ok = { description: 'ok', content: { 'application/json': { schema: z.object({ ok: z.boolean() }) } } };
  const app = createRouter()
    .openapi(createRoute({ method: 'get', path: '/things', responses: { 200: ok, ...problems('UNAUTHENTICATED') } }), (c) => c.json({ ok: true }, 200))
    .openapi(
      createRoute({
        method: 'post',
        path: '/things',
        request: { body: { content: { 'application/json': { schema: z.strictObject({ name: z.string() }) } }, required: true } },
        responses: { 200: ok, ...problems('VALIDATION_FAILED', 'EMAIL_NOT_VERIFIED') },
      }),
      (c) => c.json({ ok: true }, 200),
    );
  return app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 't', version: '1' } });
}

describe('withAppWideProblems', () => {
  it("adds what the app-wide middleware answers to every state-changing operation, beside the route's own", () => {
    const post = withAppWideProblems(document()).paths!['/things']!.post!.responses as Record<string, { description: string; content?: object }>;
    expect(Object.keys(post).sort()).toEqual(['200', '400', '403', '413', '415', '500']);
    // The route's own 403 keeps its code and gains the origin guard's.
    expect(post['403']!.description).toBe('EMAIL_NOT_VERIFIED, CSRF_FAILED');
    expect(post['413']!.description).toBe('PAYLOAD_TOO_LARGE');
    expect(post['415']!.content).toEqual({ 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } });
  });

  it('leaves reads as their routes document them, and says a code once', () => {
    const twice = withAppWideProblems(withAppWideProblems(document()));
    expect(Object.keys(twice.paths!['/things']!.get!.responses!).sort()).toEqual(['200', '401', '500']);
    expect((twice.paths!['/things']!.post!.responses as Record<string, { description: string }>)['403']!.description).toBe('EMAIL_NOT_VERIFIED, CSRF_FAILED');
  });
});
