import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import { ApiError } from '../problem.js';

/**
 * The docs page's own policy (SECURITY.md §38): scripts from this origin only, never inline, never
 * eval'd. style-src needs 'unsafe-inline': Redoc's styled-components and the bundle's style-loader
 * insert <style> elements at run time, the latter while the script loads, before the `nonce` option
 * Redoc offers could reach it. Search is off (disable-search), so no blob: worker is needed.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const IMMUTABLE = 'public, max-age=31536000, immutable';

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
}

/**
 * The pinned Redoc bundle from node_modules (package.json pins the version), named by its content
 * hash so that it can be cached for a year and a new version is a new URL. Its licence notice
 * keeps the name the bundle's header comment points to.
 */
function redocAssets(): { script: string; assets: ReadonlyMap<string, Asset> } {
  const require = createRequire(import.meta.url);
  const path = require.resolve('redoc/bundles/redoc.standalone.js');
  const body = new Uint8Array(readFileSync(path));
  const script = `redoc.standalone.${createHash('sha256').update(body).digest('hex').slice(0, 16)}.js`;
  return {
    script,
    assets: new Map([
      [script, { body, type: 'text/javascript; charset=utf-8' }],
      ['redoc.standalone.js.LICENSE.txt', { body: new Uint8Array(readFileSync(`${path}.LICENSE.txt`)), type: 'text/plain; charset=utf-8' }],
    ]),
  };
}

/** The interactive API reference at /docs, served from this origin alone. */
export function docsRoutes(options: { specUrl: string; title: string }) {
  const { script, assets } = redocAssets();
  // No inline script: the bundle finds <redoc> and reads its options from the attributes.
  const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${options.title}</title>
  </head>
  <body>
    <redoc spec-url="${options.specUrl}" disable-search="true"></redoc>
    <script src="/docs/assets/${script}"></script>
  </body>
</html>
`;
  return new Hono<AppEnv>()
    .get('/', (c) => {
      c.header('Content-Security-Policy', DOCS_CSP);
      // Revalidated, so a new bundle name reaches the browser with the next deploy.
      c.header('Cache-Control', 'no-cache');
      return c.html(page);
    })
    .get('/assets/:file', (c) => {
      const asset = assets.get(c.req.param('file'));
      if (!asset) throw new ApiError('NOT_FOUND');
      return c.body(asset.body, 200, { 'Content-Type': asset.type, 'Cache-Control': IMMUTABLE });
    });
}
