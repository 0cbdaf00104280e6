import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { corsAllowList } from './cors.js';

const OURS = 'https://app.travelconnect.dev';

let handled = 0;
const app = new Hono().use(corsAllowList({ origins: [OURS, 'null'] })).all('/bookings', (c) => {
  handled += 1;
  return c.json({ ok: true });
});

describe('corsAllowList middleware', () => {
  it('answers an allow-listed origin with its own name, credentials and the headers a client may read', async () => {
    const response = await app.request('/bookings', { headers: { Origin: OURS } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(OURS);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('access-control-expose-headers')).toContain('X-Request-Id');
    expect(response.headers.get('access-control-expose-headers')).toContain('Retry-After');
    expect(response.headers.get('vary')).toBe('Origin');
  });

  it('gives any other origin, "null" included, no CORS header at all (never a wildcard, never credentials)', async () => {
    for (const origin of ['https://evil.example', 'null', `${OURS}.evil.example`, OURS.toUpperCase()]) {
      const response = await app.request('/bookings', { headers: { Origin: origin } });
      expect(response.status, origin).toBe(200);
      expect([...response.headers.keys()].filter((name) => name.startsWith('access-control-')), origin).toEqual([]);
      // Caches must not hand one origin's answer to another.
      expect(response.headers.get('vary'), origin).toBe('Origin');
    }
  });

  it('answers a preflight of an allow-listed origin itself with 204, without running the handler', async () => {
    const before = handled;
    const response = await app.request('/bookings', {
      method: 'OPTIONS',
      headers: { Origin: OURS, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type, idempotency-key' },
    });
    expect(response.status).toBe(204);
    expect(handled).toBe(before);
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')).toContain('Idempotency-Key');
    expect(response.headers.get('access-control-max-age')).toBe('600');
  });

  it('leaves a preflight of another origin to the app, with no permission in it', async () => {
    const response = await app.request('/bookings', { method: 'OPTIONS', headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'DELETE' } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-methods')).toBeNull();
  });
});
