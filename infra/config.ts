import { z } from 'zod';
import { corsOriginProblems, isLoopback, temporalUiUrlProblems } from './cors-origins.js';
import { DEVELOPMENT_SECRETS, resolveSecrets, type SecretScope } from './secrets.js';
import { kmsEndpointProblems, LOCAL_KMS_ENDPOINT, LOCAL_STRIPE_URL, localFakeWarnings, temporalTls, transportProblems } from './transport-policy.js';

/**
 * Every setting of every process, parsed once from the environment.
 * Defaults serve local development (`npm run up`); production overrides them. NODE_ENV has none:
 * every process is told its mode, so a forgotten setting never runs a deployment as development.
 */

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const duration = z.coerce.number().int().positive(); // milliseconds

const url = (protocols: readonly string[]) =>
  z.string().refine((value) => {
    try {
      return protocols.includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, `must be a URL (${protocols.join(' or ')})`);

/** What the Stripe fake accepts from browsers: the development default, refused in production however it is given. */
const LOCAL_STRIPE_PUBLISHABLE_KEY = 'pk_test_localstripe';

const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port');

const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production'], {
    error: (issue) => (issue.input === undefined
      ? 'required (development, test or production); nothing starts in an implicit mode'
      : 'must be development, test or production'),
  }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  API_HOST: z.string().default('127.0.0.1'),
  PORT: port.default(3000),

  // What the API, the worker and the admin tools connect as: the least-privileged travelconnect_app.
  DATABASE_URL: url(['postgres:', 'postgresql:']).default(DEVELOPMENT_SECRETS.DATABASE_URL),
  DATABASE_POOL_MAX: positiveInt.default(10),
  // The CA that signed the server's certificate; sslmode (verify-full in production) rides in the URL.
  DATABASE_SSL_CA_FILE: z.string().min(1).optional(),
  // The owner of the schema, for migrations only (see SecretScope); production gives it to the migration job alone.
  MIGRATION_DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  // A secret (its AUTH user and password ride in it); rediss: is TLS, required in production.
  REDIS_URL: url(['redis:', 'rediss:']).default(DEVELOPMENT_SECRETS.REDIS_URL),
  REDIS_TLS_CA_FILE: z.string().min(1).optional(),
  // Every key this deployment writes starts with it (tests use one per run).
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,40}$/).default('tc:'),

  TEMPORAL_ADDRESS: hostPort.default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('bookings'),
  TEMPORAL_UI_URL: url(['http:', 'https:']).default('http://127.0.0.1:8233'),
  // TLS to the frontend: implied by any of the files below or an API key (infra/transport-policy.ts).
  TEMPORAL_TLS: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  TEMPORAL_TLS_CA_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  // mTLS: the client certificate and its key, both PEM files.
  TEMPORAL_TLS_CERT_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY_FILE: z.string().min(1).optional(),
  // Temporal Cloud's API key (a secret, see infra/secrets.ts).
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  // Worker tuning; the SDK's defaults suit a small machine.
  WORKER_MAX_CACHED_WORKFLOWS: positiveInt.optional(),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: positiveInt.optional(),
  WORKER_MAX_CONCURRENT_ACTIVITIES: positiveInt.optional(),
  // The Temporal SDK's own worker metrics (Prometheus text at /metrics); 0 turns them off.
  WORKER_METRICS_PORT: port.default(9464),
  // The bearer token Prometheus scrapes the API's /metrics with (a secret, see infra/secrets.ts).
  METRICS_TOKEN: z.string().min(24, 'must be at least 24 characters').default(DEVELOPMENT_SECRETS.METRICS_TOKEN),
  // How long one count of bookings by status serves every scrape.
  METRICS_CACHE_MS: duration.default(5_000),
  // OpenTelemetry traces (README.md "Tracing"): the OTLP/HTTP collector's base URL, traces go to its /v1/traces.
  // Unset, nothing is exported. Production sends them over https only.
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http:', 'https:']).optional(),
  // A bundle built by `npm run build:workflows`; without it the worker bundles at start-up.
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
  // Worker Deployment Versioning (README "Deploying workflow changes"): the build this worker runs, the git
  // commit deploy/Dockerfile bakes into the image. Set, the worker polls as that version of the deployment;
  // production refuses a worker without it. Unset outside production: an unversioned worker (development, tests).
  WORKER_BUILD_ID: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be a build id (letters, digits, . _ -), the git commit').optional(),
  // Temporal refuses `.` and `:` in a deployment's name.
  WORKER_DEPLOYMENT_NAME: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, 'must be letters, digits, _ and - (no . or :)')
    .default('travelconnect-booking'),

  STRIPE_SECRET_KEY: z.string().min(1).default(DEVELOPMENT_SECRETS.STRIPE_SECRET_KEY),
  STRIPE_WEBHOOK_SECRET: z.string().min(1).default(DEVELOPMENT_SECRETS.STRIPE_WEBHOOK_SECRET),
  // Outside production the Stripe fake (LOCAL_STRIPE_URL); in production Stripe itself.
  STRIPE_API_URL: url(['http:', 'https:']).optional(),
  // What browsers create PaymentMethods with (GET /payments/config): public, not a secret; production sets its own.
  STRIPE_PUBLISHABLE_KEY: z.string().regex(/^pk_(test|live)_[A-Za-z0-9_]{1,200}$/, 'must be a Stripe publishable key (pk_test_… or pk_live_…)')
    .default(LOCAL_STRIPE_PUBLISHABLE_KEY),
  // The Stripe.js browsers load: Stripe's own in production, the Stripe fake's (STRIPE_API_URL) elsewhere.
  STRIPE_JS_URL: url(['http:', 'https:']).optional(),
  // The built web client the API serves at / (npm run web:build); default web/dist of this checkout.
  WEB_DIST_DIR: z.string().min(1).optional(),

  // Outside production local-kms (LOCAL_KMS_ENDPOINT); in production none: AWS KMS for KMS_REGION.
  KMS_ENDPOINT: url(['http:', 'https:']).optional(),
  KMS_REGION: z.string().min(1).default('eu-west-1'),
  KMS_KEY_ID: z.string().min(1).default('alias/travelconnect-data'),

  // Names the fakes (stripe, kms) a production-profile test may use; production only, logged loudly, never TLS to a store.
  TC_ALLOW_LOCAL_FAKES: z.string().optional(),

  // The flight supplier's API (infra/providers/flights.adapter.ts); by default the development sandbox's.
  SANDBOX_PROVIDER_URL: url(['http:', 'https:']).default('http://127.0.0.1:4010'),
  // The hotel supplier (StayBridge); the sandbox process serves it under /hotels, the default.
  HOTEL_PROVIDER_URL: url(['http:', 'https:']).optional(),

  PROVIDER_TIMEOUT_MS: duration.default(5_000),
  // A search answers within this, with what the providers that made it returned.
  SEARCH_DEADLINE_MS: duration.default(2_500),
  SEARCH_CACHE_TTL_SECONDS: positiveInt.default(60),
  // How far a re-priced offer may drift above the price the client saw.
  PRICE_TOLERANCE_PERCENT: z.coerce.number().min(0).max(100).default(0),
  // Keys the audit log's HMAC chain. Development default only; production must set its own.
  AUDIT_HMAC_KEY: z.string().min(32, 'must be at least 32 characters').default(DEVELOPMENT_SECRETS.AUDIT_HMAC_KEY),
  // Tries of a saga's undo step before the booking is flagged NEEDS_ATTENTION (retrying goes on).
  COMPENSATION_ALERT_ATTEMPTS: positiveInt.default(8),
  // Tries of each forward saga step (Stripe, providers); 12 unless set. Tests make the budget short.
  SAGA_FORWARD_ATTEMPTS: positiveInt.max(50).optional(),
  // Retention (SECURITY.md §23): booking PII 7 years, webhook dedup records 30 days; the purge runs daily.
  RETENTION_BOOKING_PII_DAYS: positiveInt.default(7 * 365),
  RETENTION_WEBHOOK_EVENT_DAYS: positiveInt.default(30),
  // Ended sessions, spent e-mail/reset tokens and delivered mail.
  RETENTION_AUTH_RECORD_DAYS: positiveInt.default(30),
  RETENTION_EVERY_MS: duration.default(24 * 60 * 60_000),
  // Work whose workflow start was lost (Temporal unreachable just after the commit): how often it is swept,
  // after how long mail is started again and a booking without a saga is failed.
  STALLED_WORK_EVERY_MS: duration.default(5 * 60_000),
  STALLED_MAIL_AFTER_MS: duration.default(2 * 60_000),
  STALLED_BOOKING_AFTER_MS: duration.default(15 * 60_000),
  // How often the reconciler compares provider, Stripe, Postgres and workflow (README "The reconciler").
  RECONCILIATION_EVERY_MS: duration.default(5 * 60_000),
  // After a failed booking, when to look again for holds a provider granted late.
  LATE_SUCCESS_SWEEP_MS: duration.default(2 * 60_000),

  // Identity (docs/api.md "Authentication"): the secrets are in infra/secrets.ts.
  JWT_SIGNING_KEYS: z.string().regex(/^[A-Za-z0-9._-]{1,40}:[A-Za-z0-9_-]{43,}(,[A-Za-z0-9._-]{1,40}:[A-Za-z0-9_-]{43,})*$/,
    'must be kid:base64url-secret pairs (at least 32 bytes each), comma-separated').default(DEVELOPMENT_SECRETS.JWT_SIGNING_KEYS),
  JWT_ISSUER: z.string().min(1).default('https://travelconnect.local'),
  JWT_AUDIENCE: z.string().min(1).default('travelconnect-api'),
  ACCESS_TOKEN_TTL_SECONDS: positiveInt.max(3600).default(15 * 60),
  // The absolute limit of a session and of every refresh token in it.
  SESSION_MAX_AGE_SECONDS: positiveInt.default(7 * 24 * 3600),
  SESSION_IDLE_TIMEOUT_SECONDS: positiveInt.default(30 * 60),
  // Keys the CSRF tokens and the recognised-device cookie.
  AUTH_HMAC_KEY: z.string().min(32, 'must be at least 32 characters').default(DEVELOPMENT_SECRETS.AUTH_HMAC_KEY),
  // Browser origins allowed to call the API with credentials, comma-separated; never `null`.
  CORS_ORIGINS: z.string().default('http://localhost:5173,http://127.0.0.1:5173'),
  // Peers whose X-Forwarded-For is believed (IPs or CIDRs, comma-separated); none by default.
  TRUSTED_PROXIES: z.string().default(''),
  // A reverse proxy or load balancer forwards the traffic: production then refuses an empty TRUSTED_PROXIES,
  // which would count every client as the proxy's address (one rate-limit bucket for everyone).
  BEHIND_PROXY: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false'),
  // Where links in e-mails point (the web client).
  PUBLIC_APP_URL: url(['http:', 'https:']).default('http://127.0.0.1:3000'),
  // A Turnstile/reCAPTCHA-compatible siteverify endpoint; locally the sandbox serves one.
  CAPTCHA_VERIFY_URL: url(['http:', 'https:']).default('http://127.0.0.1:4010/captcha/siteverify'),
  CAPTCHA_SECRET: z.string().min(1).default(DEVELOPMENT_SECRETS.CAPTCHA_SECRET),
  // Outgoing mail: `dev-sink` keeps messages for GET /api/v1/dev/outbox (not in production).
  MAIL_TRANSPORT: z.enum(['smtp', 'dev-sink']).optional(),
  // A secret (its user and password ride in it); production needs TLS (smtps:, or smtp: with ?requireTLS=true).
  SMTP_URL: url(['smtp:', 'smtps:']).default(DEVELOPMENT_SECRETS.SMTP_URL),
  // The CA that signed the mail server's certificate; unset, the system's CAs.
  SMTP_TLS_CA_FILE: z.string().min(1).optional(),
  MAIL_FROM: z.string().min(3).default('TravelConnect <no-reply@travelconnect.local>'),
  // Right to erasure: how long a deleted account can still be restored by signing in.
  ACCOUNT_DELETION_GRACE_MS: duration.default(30 * 24 * 3600_000),
  // Authorization denials audited one by one per user and per address in this window; past the
  // limit they are refused with 429 and audited as one row with their count (api/middleware/denial-limit.ts).
  AUTHZ_DENIAL_WINDOW_MS: duration.default(60_000),
});

export type Config = Readonly<ReturnType<typeof toConfig>>;

/**
 * The development sandbox's own settings (its port, fault injection, how long offers and holds last).
 * dev/config.ts parses them on top of this configuration; production has no sandbox and refuses each.
 */
export const SANDBOX_SETTINGS = [
  'SANDBOX_PROVIDER_PORT', 'SANDBOX_LATENCY_MS', 'SANDBOX_ERROR_RATE', 'SANDBOX_SOLD_OUT', 'SANDBOX_OFFER_TTL_MS', 'SANDBOX_HOLD_TTL_MS',
] as const;
export type SandboxSetting = (typeof SANDBOX_SETTINGS)[number];

/** Only the KMS settings, for opening the sealed secrets file before the rest can be parsed; held to the same rules. */
export function kmsSettings(env: NodeJS.ProcessEnv) {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.pick({ NODE_ENV: true, KMS_ENDPOINT: true, KMS_REGION: true, KMS_KEY_ID: true, TC_ALLOW_LOCAL_FAKES: true }).safeParse(present);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  const problems = kmsEndpointProblems(parsed.data);
  if (problems.length > 0) throw new ConfigError(problems);
  return { endpoint: kmsEndpoint(parsed.data), region: parsed.data.KMS_REGION, keyId: parsed.data.KMS_KEY_ID };
}

/** local-kms outside production; in production only what is set (none: AWS KMS, its endpoint and credential chain). */
function kmsEndpoint(env: Pick<z.infer<typeof schema>, 'NODE_ENV' | 'KMS_ENDPOINT'>): string | undefined {
  return env.KMS_ENDPOINT ?? (env.NODE_ENV === 'production' ? undefined : LOCAL_KMS_ENDPOINT);
}

function toConfig(env: z.infer<typeof schema>) {
  const { NODE_ENV: nodeEnv } = env;
  const migrationUrl = env.MIGRATION_DATABASE_URL ?? (nodeEnv === 'production' ? undefined : DEVELOPMENT_SECRETS.MIGRATION_DATABASE_URL);
  const stripeApiUrl = env.STRIPE_API_URL ?? (nodeEnv === 'production' ? 'https://api.stripe.com' : LOCAL_STRIPE_URL);
  // Both roles reach the same server, so one CA serves both URLs.
  const databaseCa = env.DATABASE_SSL_CA_FILE ? { caFile: env.DATABASE_SSL_CA_FILE } : {};
  const temporalTlsFiles = temporalTls(env);
  return {
    nodeEnv,
    isProduction: nodeEnv === 'production',
    logLevel: env.LOG_LEVEL,
    api: { host: env.API_HOST, port: env.PORT },
    database: { url: env.DATABASE_URL, poolMax: env.DATABASE_POOL_MAX, ...databaseCa },
    // Outside production the development owner by default; in production only the migration scope has it.
    migrationDatabase: migrationUrl === undefined ? undefined : { url: migrationUrl, poolMax: 2, ...databaseCa },
    redis: { url: env.REDIS_URL, keyPrefix: env.REDIS_KEY_PREFIX, ...(env.REDIS_TLS_CA_FILE ? { caFile: env.REDIS_TLS_CA_FILE } : {}) },
    temporal: {
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      uiUrl: env.TEMPORAL_UI_URL,
      ...(temporalTlsFiles ? { tls: temporalTlsFiles } : {}),
      ...(env.TEMPORAL_API_KEY ? { apiKey: env.TEMPORAL_API_KEY } : {}),
    },
    worker: {
      maxCachedWorkflows: env.WORKER_MAX_CACHED_WORKFLOWS,
      maxConcurrentWorkflowTaskExecutions: env.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxConcurrentActivityTaskExecutions: env.WORKER_MAX_CONCURRENT_ACTIVITIES,
      workflowBundlePath: env.WORKFLOW_BUNDLE_PATH,
    },
    workerDeployment: { deploymentName: env.WORKER_DEPLOYMENT_NAME, buildId: env.WORKER_BUILD_ID },
    workerMetrics: { host: env.API_HOST, port: env.WORKER_METRICS_PORT },
    metrics: { token: env.METRICS_TOKEN, cacheMs: env.METRICS_CACHE_MS },
    tracing: { otlpTracesUrl: env.OTEL_EXPORTER_OTLP_ENDPOINT ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : undefined },
    stripe: {
      secretKey: env.STRIPE_SECRET_KEY,
      webhookSecret: env.STRIPE_WEBHOOK_SECRET,
      apiUrl: stripeApiUrl,
      publishableKey: env.STRIPE_PUBLISHABLE_KEY,
      jsUrl: env.STRIPE_JS_URL
        ?? (nodeEnv === 'production' ? 'https://js.stripe.com/v3/' : `${stripeApiUrl.replace(/\/+$/, '')}/js.stripe.com/v3/`),
    },
    web: { distDir: env.WEB_DIST_DIR },
    kms: { endpoint: kmsEndpoint(env), region: env.KMS_REGION, keyId: env.KMS_KEY_ID },
    // One WARN line each at start-up: production pointed at a local fake by TC_ALLOW_LOCAL_FAKES.
    localFakeWarnings: localFakeWarnings({ ...env, STRIPE_API_URL: stripeApiUrl, KMS_ENDPOINT: kmsEndpoint(env) }),
    providers: {
      sandboxUrl: env.SANDBOX_PROVIDER_URL,
      hotelUrl: env.HOTEL_PROVIDER_URL ?? `${env.SANDBOX_PROVIDER_URL.replace(/\/+$/, '')}/hotels`,
      timeoutMs: env.PROVIDER_TIMEOUT_MS,
      priceTolerancePercent: env.PRICE_TOLERANCE_PERCENT,
    },
    search: { deadlineMs: env.SEARCH_DEADLINE_MS, cacheTtlSeconds: env.SEARCH_CACHE_TTL_SECONDS },
    saga: { compensationAlertAttempts: env.COMPENSATION_ALERT_ATTEMPTS, lateSuccessSweepMs: env.LATE_SUCCESS_SWEEP_MS, forwardAttempts: env.SAGA_FORWARD_ATTEMPTS },
    audit: { hmacKey: env.AUDIT_HMAC_KEY, denialWindowMs: env.AUTHZ_DENIAL_WINDOW_MS },
    auth: {
      signingKeys: env.JWT_SIGNING_KEYS.split(',').map((pair) => {
        const [kid, secretBase64url] = pair.split(':') as [string, string];
        return { kid, secretBase64url };
      }),
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
      sessionMaxAgeSeconds: env.SESSION_MAX_AGE_SECONDS,
      idleTimeoutSeconds: env.SESSION_IDLE_TIMEOUT_SECONDS,
      hmacKey: env.AUTH_HMAC_KEY,
      corsOrigins: list(env.CORS_ORIGINS),
      trustedProxies: list(env.TRUSTED_PROXIES),
      publicAppUrl: env.PUBLIC_APP_URL,
      captcha: { verifyUrl: env.CAPTCHA_VERIFY_URL, secret: env.CAPTCHA_SECRET },
      deletionGraceMs: env.ACCOUNT_DELETION_GRACE_MS,
    },
    mail: {
      transport: env.MAIL_TRANSPORT ?? (nodeEnv === 'production' ? 'smtp' : 'dev-sink'),
      smtpUrl: env.SMTP_URL,
      ...(env.SMTP_TLS_CA_FILE ? { caFile: env.SMTP_TLS_CA_FILE } : {}),
      from: env.MAIL_FROM,
    },
    reconciliation: { everyMs: env.RECONCILIATION_EVERY_MS },
    stalledWork: {
      everyMs: env.STALLED_WORK_EVERY_MS,
      policy: {
        mailAfterMs: env.STALLED_MAIL_AFTER_MS,
        // Reset and verification links last at most a day; older mail is left to retention.
        mailGiveUpMs: 2 * 24 * 60 * 60_000,
        bookingAfterMs: env.STALLED_BOOKING_AFTER_MS,
        batchSize: 200,
      },
    },
    retention: {
      everyMs: env.RETENTION_EVERY_MS,
      policy: {
        bookingPiiDays: env.RETENTION_BOOKING_PII_DAYS,
        webhookEventDays: env.RETENTION_WEBHOOK_EVENT_DAYS,
        authRecordDays: env.RETENTION_AUTH_RECORD_DAYS,
        batchSize: 500,
      },
    },
  };
}

function list(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter(Boolean);
}

/** Thrown when the environment is invalid; its message is one line per bad variable. */
export class ConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`Invalid configuration: ${issues.join('; ')}`);
    this.name = 'ConfigError';
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * Parses the given environment (default: this process's) into a frozen Config. `scope` says which
 * database role the process runs as: the application's (default) or, for migrations, the owner's.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  sealed: Readonly<Record<string, string>> = {},
  scope: SecretScope = 'application',
): Config {
  const secrets = resolveSecrets(env, sealed, scope);
  // Empty strings mean "unset", as they do for most twelve-factor tools.
  const present = Object.fromEntries(Object.entries(secrets.env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  const problems = [
    ...secrets.problems,
    ...(parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)),
  ];
  if (parsed.success && parsed.data.NODE_ENV === 'production' && parsed.data.MAIL_TRANSPORT === 'dev-sink') {
    problems.push('MAIL_TRANSPORT: dev-sink is refused in production');
  }
  if (parsed.success && parsed.data.NODE_ENV === 'production') {
    problems.push(...SANDBOX_SETTINGS.filter((name) => present[name] !== undefined).map((name) => `${name}: a setting of the development sandbox, refused in production`));
  }
  if (parsed.success) {
    problems.push(...browserFacingProblems(parsed.data, present, scope));
    // A setting already refused (a development secret, say) is named once, not again for its TLS.
    const named = new Set(problems.map((problem) => problem.split(':')[0]));
    const libpq = { PGPASSWORD: present.PGPASSWORD, PGPASSFILE: present.PGPASSFILE };
    problems.push(...transportProblems({ ...parsed.data, ...libpq }, scope).filter((problem) => !named.has(problem.split(':')[0])));
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return deepFreeze(toConfig(parsed.data));
}

/**
 * CORS origins anywhere; in production, for the application's processes (the migration job serves no
 * browser), an explicit list of https origins and, behind a proxy, the proxies to believe (SECURITY.md §33).
 */
function browserFacingProblems(env: z.infer<typeof schema>, given: Record<string, unknown>, scope: SecretScope): string[] {
  const production = env.NODE_ENV === 'production' && scope === 'application';
  const problems = production && given.CORS_ORIGINS === undefined
    ? ['CORS_ORIGINS: production needs its own list of https origins (the default is for development)']
    : corsOriginProblems(list(env.CORS_ORIGINS), production);
  if (production) problems.push(...temporalUiUrlProblems(given.TEMPORAL_UI_URL === undefined ? undefined : env.TEMPORAL_UI_URL));
  if (production) {
    // Where mailed verification and reset links point: the real web origin, never the development default.
    const app = given.PUBLIC_APP_URL === undefined ? undefined : new URL(env.PUBLIC_APP_URL);
    if (!app || app.protocol !== 'https:' || isLoopback(app.hostname)) problems.push('PUBLIC_APP_URL: production needs its own https address (mailed links point there)');
  }
  // Browsers run it with the card fields inside; the app's CSP lets in Stripe's own, or else whatever origin this names.
  if (production && env.STRIPE_JS_URL !== undefined && !isStripeJs(env.STRIPE_JS_URL)) {
    problems.push('STRIPE_JS_URL: production loads Stripe.js from https://js.stripe.com (unset it, or name a URL there)');
  }
  if (production && (given.STRIPE_PUBLISHABLE_KEY === undefined || env.STRIPE_PUBLISHABLE_KEY === LOCAL_STRIPE_PUBLISHABLE_KEY)) {
    problems.push('STRIPE_PUBLISHABLE_KEY: required in production (the pk_live_… key browsers pay with, not the Stripe fake\'s)');
  }
  if (production && env.BEHIND_PROXY === 'true' && list(env.TRUSTED_PROXIES).length === 0) {
    problems.push("TRUSTED_PROXIES: required in production when BEHIND_PROXY=true (the proxies whose X-Forwarded-For counts)");
  }
  return problems;
}

/** Stripe's own Stripe.js (https://js.stripe.com/v3/ and its other versions). */
function isStripeJs(value: string): boolean {
  const url = new URL(value);
  return url.protocol === 'https:' && url.host === 'js.stripe.com' && !url.username && !url.password;
}

/** The owner's connection settings (MIGRATION_DATABASE_URL), for migrations and the tools that create databases. */
export function requireMigrationDatabase(config: Pick<Config, 'migrationDatabase'>): Config['database'] {
  if (!config.migrationDatabase) throw new ConfigError(['MIGRATION_DATABASE_URL: required to migrate (production has no default)']);
  return config.migrationDatabase;
}

/**
 * The Worker Deployment Version a booking worker polls as; none (unversioned) only outside production.
 * Only the worker needs it, so loadConfig leaves it to the worker to ask.
 */
export function requireWorkerVersion(config: Pick<Config, 'isProduction' | 'workerDeployment'>): { deploymentName: string; buildId: string } | undefined {
  const { deploymentName, buildId } = config.workerDeployment;
  if (buildId) return { deploymentName, buildId };
  if (config.isProduction) {
    throw new ConfigError(['WORKER_BUILD_ID: required in production (the git commit the image was built from: an unversioned worker would take tasks of sagas started on other builds)']);
  }
  return undefined;
}

/** For entry points: load the config or exit with one clear line naming the variable. */
export function loadConfigOrExit(
  env: NodeJS.ProcessEnv = process.env,
  sealed: Readonly<Record<string, string>> = {},
  scope: SecretScope = 'application',
): Config {
  return orExit(() => loadConfig(env, sealed, scope));
}

/** Runs a configuration step of an entry point; a ConfigError exits with its one line (EX_CONFIG). */
export function orExit<T>(step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}
