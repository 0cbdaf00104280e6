import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../env.js';
import { onError } from './errors.js';
import { SECURITY_HEADERS, securityHeaders } from './security-headers.js';

const app = new Hono<AppEnv>()
  .onError(onError)
  .use(securityHeaders())
  .get('/ok', (c) => c.json({ ok: true }))
  .get('/boom', () => {
    throw new Error('boom');
  });

describe('securityHeaders middleware', () => {
  it('sets every header SECURITY.md §9 asks for, with the values it names', async () => {
    const response = await app.request('/ok');
    expect(response.status).toBe(200);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(response.headers.get(name), name).toBe(value);
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('strict-transport-security')).toMatch(/^max-age=31536000\b/);
  });

  it('keeps them on an error the funnel renders', async () => {
    const response = await app.request('/boom');
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(response.headers.get(name), name).toBe(value);
  });

  it('does not replace a header a handler sets on purpose', async () => {
    const framed = new Hono().use(securityHeaders()).get('/', (c) => {
      c.header('Content-Security-Policy', "default-src 'self'");
      return c.text('page');
    });
    expect((await framed.request('/')).headers.get('content-security-policy')).toBe("default-src 'self'");
  });
});
