import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppEnv } from '../env.js';
import { webApp, webAppCsp } from './web-app.js';

// A built web client as web/dist holds one, with what a build that made source maps would leave beside the code.
const dir = mkdtempSync(join(tmpdir(), 'tc-web-app-'));
mkdirSync(join(dir, 'assets'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/assets/index-abc123.js"></script>');
writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1);\n');
writeFileSync(join(dir, 'assets', 'index-abc123.js.map'), '{"version":3,"sources":["../../web/src/main.tsx"]}');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const app = new Hono<AppEnv>().use(webApp({ dir, csp: "default-src 'none'" })).notFound((c) => c.text('not found', 404));

describe('the built web client', () => {
  it('serves its pages and hashed assets', async () => {
    expect((await app.request('/bookings')).status).toBe(200);
    const script = await app.request('/assets/index-abc123.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('cache-control')).toContain('immutable');
  });

  it('never serves a source map, even one left in the build directory', async () => {
    expect((await app.request('/assets/index-abc123.js.map')).status).toBe(404);
  });
});

describe("the app pages' Content-Security-Policy", () => {
  const directives = (csp: string) => new Map(csp.split('; ').map((d) => [d.split(' ')[0]!, d.split(' ').slice(1).join(' ')]));

  it("allows what Stripe's own Stripe.js needs, as Stripe's integration security guide lists it, and no inline code", () => {
    const csp = directives(webAppCsp({ jsUrl: 'https://js.stripe.com/v3/', apiUrl: 'https://api.stripe.com' }));
    expect(csp.get('script-src')).toBe("'self' https://js.stripe.com https://*.js.stripe.com");
    expect(csp.get('frame-src')).toBe('https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com');
    expect(csp.get('connect-src')).toBe("'self' https://api.stripe.com");
    // The guide asks for no style-src for Stripe.js (its style hash is for Connect's embedded components).
    expect(csp.get('style-src')).toBe("'self'");
    expect([...csp.values()].join(' ')).not.toContain('unsafe');
  });

  it("allows the Stripe fake's origin alone in development, whatever the fake's API address", () => {
    const csp = directives(webAppCsp({ jsUrl: 'http://127.0.0.1:8420/js.stripe.com/v3/', apiUrl: 'http://127.0.0.1:8420' }));
    expect(csp.get('script-src')).toBe("'self' http://127.0.0.1:8420");
    expect(csp.get('frame-src')).toBe('http://127.0.0.1:8420');
    expect(csp.get('connect-src')).toBe("'self' http://127.0.0.1:8420");
    expect([...csp.values()].join(' ')).not.toMatch(/stripe\.com|unsafe/);
  });
});
