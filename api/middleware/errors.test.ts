import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../env.js';
import { ApiError } from '../problem.js';
import { notFound, onError } from './errors.js';

function funnel() {
  const logged: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
  const app = new Hono<AppEnv>();
  app.onError(onError);
  app.notFound(notFound(() => app.routes));
  app.use(async (c, next) => {
    c.set('requestId', 'req-0001');
    c.set('log', log);
    await next();
  });
  app.get('/limited', () => {
    throw new ApiError('RATE_LIMITED');
  });
  app.get('/hono-400', () => {
    throw new HTTPException(400, { message: 'Malformed JSON in request body' });
  });
  app.get('/leaky', () => {
    throw new Error('duplicate key value violates unique constraint "users_email_key": ada@example.com');
  });
  app.get('/bookings/:id', (c) => c.json({ id: c.req.param('id') }));
  app.post('/bookings/:id/cancel', (c) => c.json({ ok: true }));
  app.delete('/bookings/:id', (c) => c.json({ ok: true }));
  return { app, logged };
}

const problem = async (response: Response) => (await response.json()) as Record<string, unknown>;

describe('the error funnel (onError)', () => {
  // An error's own headers (Retry-After, WWW-Authenticate) are shown by the middleware that set them (bearer-token.test.ts).
  it('renders an ApiError as problem+json with its code, status and the request id', async () => {
    const response = await funnel().app.request('/limited');
    expect(response.status).toBe(429);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await problem(response)).toMatchObject({ status: 429, code: 'RATE_LIMITED', requestId: 'req-0001', type: 'https://travelconnect.dev/problems/rate-limited' });
  });

  it("maps Hono's own HTTP errors to our codes, without their text", async () => {
    const response = await funnel().app.request('/hono-400');
    expect(response.status).toBe(400);
    const body = await problem(response);
    expect(body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(JSON.stringify(body)).not.toContain('Malformed');
  });

  it('answers anything else 500 with only a request id; the detail goes to the log, not the client', async () => {
    const { app, logged } = funnel();
    const response = await app.request('/leaky');
    expect(response.status).toBe(500);
    const body = await problem(response);
    expect(body).toMatchObject({ code: 'INTERNAL', requestId: 'req-0001' });
    expect(JSON.stringify(body)).not.toMatch(/duplicate|users_email_key|ada@example\.com/);
    expect(logged.find((line) => line.msg === 'unhandled error')).toBeDefined();
  });
});

describe('notFound', () => {
  it('answers 404 for a path no route has', async () => {
    const response = await funnel().app.request('/nowhere');
    expect(response.status).toBe(404);
    expect(await problem(response)).toMatchObject({ code: 'NOT_FOUND', requestId: 'req-0001' });
  });

  it('answers 405 with Allow, sorted, when the path exists under other methods (path parameters included)', async () => {
    const response = await funnel().app.request('/bookings/bk-1', { method: 'PUT' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('DELETE, GET');
    expect(await problem(response)).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    expect((await funnel().app.request('/bookings/bk-1/cancel')).headers.get('allow')).toBe('POST');
  });
});
