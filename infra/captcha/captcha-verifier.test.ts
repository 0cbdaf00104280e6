import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import { createHttpCaptchaVerifier } from './captcha-verifier.js';
import { createLocalCaptchaApp } from '../../dev/captcha/local-captcha.app.js';

const servers: Array<ReturnType<typeof serve>> = [];
async function listen(app: { fetch: (request: Request) => Response | Promise<Response> }): Promise<string> {
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterAll(async () => {
  // closeAllConnections: the hanging server below holds a request open on purpose.
  for (const server of servers) (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('HTTP captcha verifier against the local siteverify app', () => {
  it('passes a pass-token with the right secret only', async () => {
    const url = `${await listen(createLocalCaptchaApp({ secret: 's3cret' }))}/siteverify`;
    const verifier = createHttpCaptchaVerifier({ verifyUrl: url, secret: 's3cret', timeoutMs: 2_000 });
    expect(await verifier.verify('pass-anything', '203.0.113.9')).toBe(true);
    expect(await verifier.verify('fail-token', '203.0.113.9')).toBe(false);
    expect(await verifier.verify('', '203.0.113.9')).toBe(false);
    const wrongSecret = createHttpCaptchaVerifier({ verifyUrl: url, secret: 'guess', timeoutMs: 2_000 });
    expect(await wrongSecret.verify('pass-anything', '203.0.113.9')).toBe(false);
  });

  it('sends secret, response and remoteip as a form', async () => {
    let seen: Record<string, unknown> = {};
    let type = '';
    const url = await listen(
      new Hono().post('/', async (c) => {
        type = c.req.header('content-type') ?? '';
        seen = await c.req.parseBody();
        return c.json({ success: true });
      }),
    );
    expect(await createHttpCaptchaVerifier({ verifyUrl: url, secret: 'k', timeoutMs: 2_000 }).verify('tok', '198.51.100.4')).toBe(true);
    expect(type).toMatch(/^application\/x-www-form-urlencoded/);
    expect(seen).toEqual({ secret: 'k', response: 'tok', remoteip: '198.51.100.4' });
  });

  it('fails closed: unreachable, slow, erroring or odd services answer false', async () => {
    const errors: unknown[] = [];
    const verify = (verifyUrl: string, timeoutMs = 2_000) =>
      createHttpCaptchaVerifier({ verifyUrl, secret: 'k', timeoutMs, onError: (e) => errors.push(e) }).verify('pass-x', '203.0.113.9');
    // Nothing listens on port 1.
    expect(await verify('http://127.0.0.1:1/siteverify')).toBe(false);
    const hanging = await listen(new Hono().post('/', () => new Promise<Response>(() => {})));
    expect(await verify(hanging, 200)).toBe(false);
    const failing = await listen(new Hono().post('/', (c) => c.json({ success: true }, 500)));
    expect(await verify(failing)).toBe(false);
    const odd = await listen(
      new Hono().post('/a', (c) => c.text('success')).post('/b', (c) => c.json({ success: 'true' })).post('/c', (c) => c.json(null)),
    );
    for (const path of ['/a', '/b', '/c']) expect(await verify(`${odd}${path}`), path).toBe(false);
    expect(errors.length).toBeGreaterThanOrEqual(4);
  });
});
