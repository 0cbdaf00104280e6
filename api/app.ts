import { Scalar } from '@scalar/hono-api-reference';
import type { Client } from '@temporalio/client';
import type { ProviderClient } from '../activities/booking.ports.js';
import type { Config } from '../infra/config.js';
import type { FieldCipher } from '../infra/crypto/field-cipher.js';
import type { Orm } from '../infra/db/orm.js';
import type { Logger } from '../infra/logger.js';
import { createBookingService } from './bookings.service.js';
import { createSearchService } from './search.service.js';
import { limitBody, requireJson } from './middleware/body.js';
import { devUser } from './middleware/dev-user.js';
import { notFound, onError } from './middleware/errors.js';
import { requestId } from './middleware/request-id.js';
import { securityHeaders } from './middleware/security-headers.js';
import { bookingRoutes } from './routes/bookings.js';
import { searchRoutes } from './routes/search.js';
import { webhookRoutes } from './routes/webhooks.js';
import { healthRoutes } from './routes/health.js';
import { createRouter } from './openapi.js';
import type { Metrics } from '../infra/metrics.js';
import type { Redis } from '../infra/redis.js';
import type Stripe from 'stripe';

export interface AppDeps {
  config: Config;
  log: Logger;
  orm: Orm;
  temporal: Client;
  providers: ReadonlyMap<string, ProviderClient>;
  cipher: FieldCipher;
  stripe: Stripe;
  redis: Redis;
  metrics: Metrics;
  taskQueue?: string;
}

/** The HTTP API; the server and the tests compose it the same way. */
export function createApp(deps: AppDeps) {
  const app = createRouter();
  app.use(requestId({ log: deps.log }));
  app.use(async function recordLatency(c, next) {
    const stop = deps.metrics.httpDuration.startTimer();
    await next();
    // The route template, never the raw path: ids must not become label values.
    stop({ method: c.req.method, route: c.req.routePath, status: String(c.res.status) });
  });
  app.use(securityHeaders());
  app.use(limitBody());
  app.use(requireJson());
  app.onError(onError);
  app.notFound(notFound(() => app.routes));

  app.route('/', healthRoutes({ orm: deps.orm, redis: deps.redis, temporal: deps.temporal, metrics: deps.metrics }));

  const bookings = createBookingService({
    orm: deps.orm,
    temporal: deps.temporal,
    taskQueue: deps.taskQueue ?? deps.config.temporal.taskQueue,
    cipher: deps.cipher,
    compensationAlertAttempts: deps.config.saga.compensationAlertAttempts,
    lateSuccessSweepMs: deps.config.saga.lateSuccessSweepMs,
    providerNames: new Set(deps.providers.keys()),
  });
  const api = createRouter();
  api.use('/bookings/*', devUser({ enabled: !deps.config.isProduction }));
  api.use(async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });
  api.route(
    '/search',
    searchRoutes(
      createSearchService({
        providers: deps.providers,
        redis: deps.redis,
        deadlineMs: deps.config.search.deadlineMs,
        cacheTtlSeconds: deps.config.search.cacheTtlSeconds,
      }),
    ),
  );
  api.route('/bookings', bookingRoutes(bookings));
  api.route(
    '/webhooks',
    webhookRoutes({ stripe: deps.stripe, webhookSecret: deps.config.stripe.webhookSecret, orm: deps.orm, temporal: deps.temporal }),
  );
  app.route('/api/v1', api);

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'TravelConnect API',
      version: '1.0.0',
      description: 'Search flights, book them through a durable saga, pay by card. Errors are application/problem+json.',
    },
  });
  // The reference page loads its script from a CDN, so it gets a CSP of its own.
  app.get('/docs', async (c, next) => {
    await next();
    c.res.headers.set(
      'Content-Security-Policy',
      "default-src 'none'; script-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; style-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; font-src https://cdn.jsdelivr.net https://fonts.scalar.com; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
    );
  }, Scalar({ url: '/openapi.json', pageTitle: 'TravelConnect API' }));
  return app;
}
