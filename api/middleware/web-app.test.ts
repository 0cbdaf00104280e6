import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppEnv } from '../env.js';
import { webApp } from './web-app.js';

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
