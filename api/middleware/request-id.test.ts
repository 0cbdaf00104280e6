import { Hono } from 'hono';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../env.js';
import { onError } from './errors.js';
import { requestId } from './request-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** An app whose log lines are kept, parsed, for the test to read. */
function logged() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const app = new Hono<AppEnv>()
    .onError(onError)
    .use(requestId({ log }))
    .get('/bookings/:id', (c) => {
      c.get('log').info('handler ran');
      return c.json({ requestId: c.get('requestId') });
    })
    .get('/boom', () => {
      throw new Error('boom');
    });
  return { app, lines };
}

describe('requestId middleware', () => {
  it('gives each request a fresh UUID, on the response, in the context and on every log line of the request', async () => {
    const { app, lines } = logged();
    const first = await app.request('/bookings/bk-1');
    const second = await app.request('/bookings/bk-2');
    const id = first.headers.get('x-request-id');
    expect(id).toMatch(UUID);
    expect(second.headers.get('x-request-id')).not.toBe(id);
    expect(await first.json()).toEqual({ requestId: id });
    expect(lines.filter((line) => line.requestId === id).map((line) => line.msg)).toEqual(['handler ran', 'request']);
  });

  it("keeps a caller's well-formed id and replaces one that is too short, too long or could forge a log line", async () => {
    const { app } = logged();
    const kept = 'edge-7f3a.9b_01';
    expect((await app.request('/bookings/bk-1', { headers: { 'X-Request-Id': kept } })).headers.get('x-request-id')).toBe(kept);
    for (const offered of ['short', 'x'.repeat(65), 'abcdefgh {"level":60}', 'abcdefgh"forged"', '../../etc/passwd']) {
      const answered = (await app.request('/bookings/bk-1', { headers: { 'X-Request-Id': offered } })).headers.get('x-request-id');
      expect(answered, offered).toMatch(UUID);
    }
  });

  it('logs one access line with the route template, never the path with its ids, and the status sent', async () => {
    const { app, lines } = logged();
    await app.request('/bookings/bk-secret-42');
    const [access] = lines.filter((line) => line.msg === 'request');
    expect(access).toMatchObject({ method: 'GET', route: '/bookings/:id', status: 200 });
    expect(typeof access?.ms).toBe('number');
    expect(JSON.stringify(access)).not.toContain('bk-secret-42');
  });

  it("logs an error's status too, and the problem document carries the same id", async () => {
    const { app, lines } = logged();
    const response = await app.request('/boom');
    const id = response.headers.get('x-request-id');
    expect(response.status).toBe(500);
    expect(((await response.json()) as { requestId: string }).requestId).toBe(id);
    expect(lines.find((line) => line.msg === 'request')).toMatchObject({ requestId: id, status: 500 });
  });
});
