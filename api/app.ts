import type { Client } from '@temporalio/client';
import type { ProviderClient } from '../activities/booking.ports.js';
import type { Config } from '../infra/config.js';
import type { FieldCipher } from '../infra/crypto/field-cipher.js';
import type { Orm } from '../infra/db/orm.js';
import type { Logger } from '../infra/logger.js';
import { createBookingService } from './bookings.service.js';
import { createAuthComponents, type AuthComponents } from './auth.components.js';
import { createAuthService } from './auth.service.js';
import { createUserService } from './users.service.js';
import { createPasswordCheck } from './password-check.js';
import { auditAppender, createAuditWriter } from '../infra/audit/audit-log.js';
import { createAccountsStore } from '../infra/db/accounts.store.js';
import { createBookingRecordsStore } from '../infra/db/booking-records.store.js';
import { createOperatorStore } from '../infra/db/operator.store.js';
import { databasePing } from '../infra/db/orm.js';
import { createUsersStore } from '../infra/db/users.store.js';
import { createWebhookEventsStore } from '../infra/db/webhook-events.store.js';
import { readDevSink } from '../infra/mail/outbox.js';
import { authenticate, requireRole } from './middleware/authenticate.js';
import { createDenialAudit } from './middleware/denial-limit.js';
import { clientIp } from './middleware/client-ip.js';
import { corsAllowList } from './middleware/cors.js';
import { originGuard } from './middleware/origin-guard.js';
import { createApiLimits } from './middleware/api-limits.js';
import { authRoutes } from './routes/auth.js';
import { codecRoutes } from './routes/codec.js';
import type { PayloadCodec } from '@temporalio/common';
import { adminRoutes } from './routes/admin.js';
import { createAdminService } from './admin.service.js';
import { adminCaseRoutes } from './routes/admin-cases.js';
import { createCaseService } from './cases.service.js';
import { devRoutes } from './routes/dev.js';
import { userRoutes } from './routes/users.js';
import { createSearchService } from './search.service.js';
import { limitBody, requireJson } from './middleware/body.js';
import { notFound, onError } from './middleware/errors.js';
import { requestId } from './middleware/request-id.js';
import { traceRequests } from './middleware/tracing.js';
import { securityHeaders } from './middleware/security-headers.js';
import { bookingRoutes } from './routes/bookings.js';
import { paymentRoutes } from './routes/payments.js';
import { createMyBookingsService } from './my-bookings.service.js';
import { createPaymentNews } from './payment-news.js';
import { createPaymentChallenges } from '../infra/stripe/payment-challenges.js';
import { searchRoutes } from './routes/search.js';
import { webhookRoutes } from './routes/webhooks.js';
import { healthRoutes } from './routes/health.js';
import { docsRoutes } from './routes/docs.js';
import { webApp, webAppCsp } from './middleware/web-app.js';
import { createRouter, withAppWideProblems, withPortablePatterns } from './openapi.js';
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
  /** The Temporal payload codec, served to operators at /codec/* for the Web UI. */
  codec?: PayloadCodec;
  /** The built web client (web/dist), served at `/`; absent, the API serves no pages. */
  webRoot?: string;
  /** Built from config when absent; tests pass theirs to mint sessions with the same parts. */
  auth?: AuthComponents;
}

/** The HTTP API; the server and the tests compose it the same way. */
export function createApp(deps: AppDeps) {
  const app = createRouter();
  // First, so the span holds the whole request (a no-op unless the process started tracing).
  app.use(traceRequests({ skip: ['/healthz', '/readyz', '/metrics'] }));
  app.use(requestId({ log: deps.log }));
  app.use(async function recordLatency(c, next) {
    const stop = deps.metrics.httpDuration.startTimer();
    await next();
    // The route template, never the raw path: ids must not become label values.
    stop({ method: c.req.method, route: c.req.routePath, status: String(c.res.status) });
  });
  app.use(securityHeaders());
  app.use(corsAllowList({ origins: deps.config.auth.corsOrigins }));
  app.use(clientIp({ trustedProxies: deps.config.auth.trustedProxies }));
  // Before the body is read or its type judged: a cross-site POST is refused whatever it carries.
  const uiOrigin = new URL(deps.config.temporal.uiUrl).origin;
  app.use('/codec/*', corsAllowList({ origins: [uiOrigin] }));
  app.use(originGuard({ origins: deps.config.auth.corsOrigins, byPath: [{ prefix: '/codec/', origins: [uiOrigin] }] }));
  app.use(limitBody());
  app.use(requireJson());
  app.onError(onError);
  app.notFound(notFound(() => app.routes));

  app.route('/', healthRoutes({ database: databasePing(deps.orm), redis: deps.redis, temporal: deps.temporal, metrics: deps.metrics, metricsToken: deps.config.metrics.token }));

  const taskQueue = deps.taskQueue ?? deps.config.temporal.taskQueue;
  // Storage the services reach through their ports: infra/db's stores, audited with this deployment's key.
  const auditKey = deps.config.audit.hmacKey;
  const audit = createAuditWriter(deps.orm, auditKey);
  const bookingRecords = createBookingRecordsStore(deps.orm, { audit: auditAppender(auditKey) });
  const operatorRecords = createOperatorStore(deps.orm);
  const bookings = createBookingService({
    bookings: bookingRecords,
    temporal: deps.temporal,
    taskQueue,
    cipher: deps.cipher,
    compensationAlertAttempts: deps.config.saga.compensationAlertAttempts,
    lateSuccessSweepMs: deps.config.saga.lateSuccessSweepMs,
    forwardAttempts: deps.config.saga.forwardAttempts,
    providers: deps.providers,
  });
  const parts = deps.auth ?? createAuthComponents(deps.config, { orm: deps.orm, redis: deps.redis });
  const checkPassword = createPasswordCheck({ guard: parts.guard, hasher: parts.hasher, captcha: parts.captcha, auditKey, audit });
  const users = createUserService({
    users: createUsersStore(deps.orm, { audit: auditAppender(auditKey) }),
    audit,
    cipher: deps.cipher,
    sessions: parts.sessions,
    checkPassword,
    devices: parts.devices,
    temporal: deps.temporal,
    taskQueue,
    deletionGraceMs: deps.config.auth.deletionGraceMs,
  });
  const auth = createAuthService({
    restoreAccount: (userId) => users.restore(userId),
    ...parts,
    checkPassword,
    accounts: createAccountsStore(deps.orm, { audit: auditAppender(auditKey) }),
    audit,
    cipher: deps.cipher,
    auditKey,
    publicAppUrl: deps.config.auth.publicAppUrl,
    notify: async (outboxId) => {
      // The row is committed: if Temporal is unreachable now, the outbox sweep sends it later.
      await deps.temporal.workflow
        .start('notificationWorkflow', { workflowId: `notify-${outboxId}`, taskQueue, args: [outboxId] })
        .catch((error: unknown) => deps.log.warn({ err: error, outboxId }, 'mail queued; delivery will be retried'));
    },
  });
  const denials = createDenialAudit({
    limiter: parts.limiter,
    redis: deps.redis,
    windowMs: deps.config.audit.denialWindowMs,
    audit: (event) => auth.audit(event),
    log: deps.log,
    onReject: () => deps.metrics.rateLimited.inc({ limit: 'authz-denial' }),
  });
  const authenticated = authenticate({ auth, csrf: parts.csrf, denials });
  const optionallyAuthenticated = authenticate({ auth, csrf: parts.csrf, denials, optional: true });
  const limits = createApiLimits({ limiter: parts.limiter, metrics: deps.metrics });

  const api = createRouter();
  api.use(async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });
  api.use('/auth/signup', limits.signup);
  api.use('/auth/password-reset/request', limits.passwordReset);
  const loggingOut = authenticate({ auth, csrf: parts.csrf, denials, refreshCookie: true });
  api.route('/auth', authRoutes({ auth, csrf: parts.csrf, authenticated, loggingOut }));
  api.use('/users/*', authenticated);
  api.use('/users/me/export', limits.accountExport);
  api.route('/users', userRoutes(users));
  api.use('/admin/*', authenticated);
  api.route('/admin', adminRoutes({ users, admin: createAdminService({ bookings: bookingRecords, records: operatorRecords, audit, temporal: deps.temporal, taskQueue }) }));
  api.route('/admin/cases', adminCaseRoutes({ cases: createCaseService({ cases: operatorRecords.cases, temporal: deps.temporal, audit }) }));
  api.use('/bookings', authenticated, limits.bookingCreate);
  api.use('/bookings/*', authenticated);
  api.use('/bookings/:id', limits.bookingChange);
  api.use('/bookings/:id/cancel', limits.bookingChange);
  api.use('/search/*', optionallyAuthenticated, limits.search);
  if (!deps.config.isProduction) api.route('/dev', devRoutes({ devSink: (recipient) => readDevSink(deps.orm, recipient) }));
  if (deps.codec) {
    app.use('/codec/*', authenticate({ auth, csrf: parts.csrf, denials, csrfCheck: false }), requireRole('support', 'admin'), limits.codec);
    app.route('/codec', codecRoutes(deps.codec));
  }
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
  const myBookings = createMyBookingsService({
    bookings: bookingRecords,
    cipher: deps.cipher,
    challenges: createPaymentChallenges(deps.stripe),
    news: createPaymentNews(deps.temporal),
    log: deps.log,
  });
  api.route('/bookings', bookingRoutes(bookings, myBookings));
  api.route('/payments', paymentRoutes({ publishableKey: deps.config.stripe.publishableKey, stripeJsUrl: deps.config.stripe.jsUrl }));
  api.route(
    '/webhooks',
    webhookRoutes({ stripe: deps.stripe, webhookSecret: deps.config.stripe.webhookSecret, events: createWebhookEventsStore(deps.orm), temporal: deps.temporal }),
  );
  app.route('/api/v1', api);

  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  app.get('/openapi.json', (c) => {
    document ??= withPortablePatterns(withAppWideProblems(
      app.getOpenAPI31Document({
        openapi: '3.1.0',
        info: {
          title: 'TravelConnect API',
          version: '1.0.0',
          description: 'Search flights, book them through a durable saga, pay by card. Errors are application/problem+json.',
        },
      }),
    ));
    return c.json(document);
  });
  // The reference page and its pinned bundle, from this origin alone, under a CSP of their own.
  app.route('/docs', docsRoutes({ specUrl: '/openapi.json', title: 'TravelConnect API' }));
  // Last: the web client answers only for paths nothing above claimed (same origin as the API: cookies, CSP).
  if (deps.webRoot) {
    const csp = webAppCsp({ jsUrl: deps.config.stripe.jsUrl, apiUrl: deps.config.stripe.apiUrl });
    app.use(webApp({ dir: deps.webRoot, csp }));
  }
  return app;
}
