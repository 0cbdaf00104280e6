import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../env.js';
import { onError } from './errors.js';
import { originGuard } from './origin-guard.js';

const OURS = 'https://app.travelconnect.dev';
const WEB_UI = 'https://temporal-ui.internal';

let handled = 0;
const app = new Hono<AppEnv>()
  .onError(onError)
  .use(originGuard({ origins: [OURS, 'null'], byPath: [{ prefix: '/codec/', origins: [WEB_UI] }] }))
  .all('*', (c) => {
    handled += 1;
    return c.json({ ok: true });
  });

async function send(method: string, path: string, headers: Record<string, string>) {
  const before = handled;
  const response = await app.request(`https://api.travelconnect.dev${path}`, { method, headers });
  return { status: response.status, code: response.status === 403 ? ((await response.json()) as { code: string }).code : undefined, reachedHandler: handled > before };
}

describe('originGuard middleware', () => {
  it('refuses a state-changing request a browser marks cross-site, before the handler runs', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      expect(await send(method, '/bookings', { 'Sec-Fetch-Site': 'cross-site' }), method).toEqual({ status: 403, code: 'CSRF_FAILED', reachedHandler: false });
    }
  });

  it('refuses a foreign Origin and the opaque "null" one, even when "null" is configured', async () => {
    expect(await send('POST', '/bookings', { Origin: 'https://evil.example' })).toMatchObject({ status: 403, code: 'CSRF_FAILED', reachedHandler: false });
    expect(await send('POST', '/bookings', { Origin: 'null' })).toMatchObject({ status: 403, reachedHandler: false });
  });

  it('lets through our origin, the API its own origin, and servers that send neither header', async () => {
    expect(await send('POST', '/bookings', { Origin: OURS, 'Sec-Fetch-Site': 'same-site' })).toMatchObject({ status: 200, reachedHandler: true });
    expect(await send('POST', '/bookings', { Origin: 'https://api.travelconnect.dev' })).toMatchObject({ status: 200 });
    expect(await send('POST', '/webhooks/stripe', {})).toMatchObject({ status: 200, reachedHandler: true });
  });

  it('never stops a safe method, whatever its origin', async () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS']) {
      expect(await send(method, '/bookings', { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.example' }), method).toMatchObject({ status: 200 });
    }
  });

  it('allows an origin listed for a path prefix under that prefix only', async () => {
    expect(await send('POST', '/codec/decode', { Origin: WEB_UI })).toMatchObject({ status: 200, reachedHandler: true });
    expect(await send('POST', '/bookings', { Origin: WEB_UI })).toMatchObject({ status: 403, reachedHandler: false });
  });
});
