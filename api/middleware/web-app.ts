import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';

// The API's own paths: the app never answers for them, so their 404s stay problem+json.
const RESERVED = ['/api', '/docs', '/codec', '/openapi.json', '/healthz', '/readyz', '/metrics'];
// What a build may publish; a source map (.map) is not, even if a build left one in the directory.
const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  woff2: 'font/woff2',
};
const IMMUTABLE = 'public, max-age=31536000, immutable';

const STRIPE_JS = 'https://js.stripe.com';

/**
 * The app pages' policy: scripts and styles from this origin and Stripe.js's alone, never inline;
 * calls to this API and to Stripe; Stripe's frames (its card fields and the bank's challenge page).
 */
export function webAppCsp(stripe: { jsUrl: string; apiUrl: string }): string {
  const js = new URL(stripe.jsUrl).origin;
  // Stripe's own Stripe.js: the sources Stripe's integration security guide lists for it (frames it starts
  // on *.js.stripe.com, 3-D Secure pages on hooks.stripe.com, its API). The guide asks for no style-src for
  // Stripe.js (its style hash is for Connect's embedded components, which this app does not use).
  // The Stripe fake's Stripe.js: the fake's origin, and the fake API it calls.
  const real = js === STRIPE_JS;
  const scripts = real ? `${STRIPE_JS} https://*.js.stripe.com` : js;
  const frames = real ? `${STRIPE_JS} https://*.js.stripe.com https://hooks.stripe.com` : js;
  const api = real ? 'https://api.stripe.com' : new URL(stripe.apiUrl).origin;
  return [
    "default-src 'none'",
    `script-src 'self' ${scripts}`,
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${api}`,
    `frame-src ${frames}`,
    "font-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * The built web client (web/dist) at `/`: hashed assets cached for a year, and index.html for every
 * other page path, so that links such as /verify-email?token=… and /bookings/<id> open the app.
 */
export function webApp(options: { dir: string; csp: string }): MiddlewareHandler<AppEnv> {
  return async function webAppMiddleware(c, next) {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return next();
    const path = c.req.path;
    if (RESERVED.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) return next();
    if (path.startsWith('/assets/')) {
      const name = path.slice('/assets/'.length);
      const type = TYPES[name.split('.').pop() ?? ''];
      if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(name) || !type) return next();
      const body = await readFile(join(options.dir, 'assets', name)).catch(() => null);
      if (!body) return next();
      return c.body(new Uint8Array(body), 200, { 'Content-Type': type, 'Cache-Control': IMMUTABLE });
    }
    // A file we do not have is a 404, not the app.
    if (/\.[A-Za-z0-9]+$/.test(path)) return next();
    const page = await readFile(join(options.dir, 'index.html'), 'utf8').catch(() => null);
    if (page === null) return next();
    c.header('Content-Security-Policy', options.csp);
    // Revalidated, so a new build's asset names reach the browser with the next deploy.
    c.header('Cache-Control', 'no-cache');
    return c.html(page);
  };
}
