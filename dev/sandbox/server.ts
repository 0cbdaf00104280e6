import { serve } from '@hono/node-server';
import { loadDevConfigOrExit } from '../config.js';
import { createSandboxApp } from './sandbox.app.js';
import { createHotelSandboxApp } from './hotels.app.js';
import { createLocalCaptchaApp } from '../captcha/local-captcha.app.js';

/** The sandbox providers (flights, and hotels under /hotels) as their own process: `npx tsx dev/sandbox/server.ts`. */
const config = loadDevConfigOrExit();
const { sandbox } = config;
const app = createSandboxApp({
  offerTtlMs: sandbox.offerTtlMs,
  holdTtlMs: sandbox.holdTtlMs,
  faults: { latencyMs: sandbox.latencyMs, errorRate: sandbox.errorRate, soldOut: sandbox.soldOut },
});
// StayBridge, the hotel supplier, with its own wire format and control plane under /hotels.
app.route(
  '/hotels',
  createHotelSandboxApp({
    offerTtlMs: sandbox.offerTtlMs,
    holdTtlMs: sandbox.holdTtlMs,
    faults: { latencyMs: sandbox.latencyMs, errorRate: sandbox.errorRate },
  }),
);
// The local CAPTCHA verifier lives here too: the sandbox is where development's third parties run.
app.route('/captcha', createLocalCaptchaApp({ secret: config.auth.captcha.secret }));
const server = serve({ fetch: app.fetch, hostname: config.api.host, port: sandbox.port }, (info) => {
  process.stdout.write(`sandbox provider listening on http://127.0.0.1:${info.port}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
