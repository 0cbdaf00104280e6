import { readFileSync } from 'node:fs';
import type { KMSClientConfig } from '@aws-sdk/client-kms';
import { isLoopback } from './cors-origins.js';
import { SSL_MODES, sslModeOf, usesTls } from './postgres-ssl.js';
import type { SecretScope } from './secrets.js';

/**
 * How the processes reach their stores and services (SECURITY.md §33). Anywhere: TLS settings that
 * contradict each other or name unreadable files. In production: TLS to Postgres (verify-full), Redis
 * (rediss:) and Temporal, and no local fake for KMS or Stripe, unless a production-profile test
 * allows a fake by name (TC_ALLOW_LOCAL_FAKES); that override never relaxes TLS to a store.
 */

/** The fakes `npm run up` starts: defaults outside production, refused in it. */
export const LOCAL_STRIPE_URL = 'http://127.0.0.1:8420';
export const LOCAL_KMS_ENDPOINT = 'http://127.0.0.1:4599';

const FAKEABLE = {
  stripe: ['STRIPE_API_URL'],
  kms: ['KMS_ENDPOINT'],
  // The sandbox suppliers and the local CAPTCHA verifier (`npm run sandbox` serves all three).
  providers: ['SANDBOX_PROVIDER_URL', 'HOTEL_PROVIDER_URL'],
  captcha: ['CAPTCHA_VERIFY_URL'],
} as const;
type Fakeable = keyof typeof FAKEABLE;

/** The settings this policy reads (parsed, secrets resolved). */
export interface TransportSettings {
  NODE_ENV: 'development' | 'test' | 'production';
  DATABASE_URL: string;
  MIGRATION_DATABASE_URL?: string | undefined;
  DATABASE_SSL_CA_FILE?: string | undefined;
  REDIS_URL: string;
  REDIS_TLS_CA_FILE?: string | undefined;
  TEMPORAL_TLS?: 'true' | 'false' | undefined;
  TEMPORAL_TLS_CA_FILE?: string | undefined;
  TEMPORAL_TLS_SERVER_NAME?: string | undefined;
  TEMPORAL_TLS_CERT_FILE?: string | undefined;
  TEMPORAL_TLS_KEY_FILE?: string | undefined;
  TEMPORAL_API_KEY?: string | undefined;
  STRIPE_API_URL?: string | undefined;
  KMS_ENDPOINT?: string | undefined;
  SANDBOX_PROVIDER_URL?: string | undefined;
  HOTEL_PROVIDER_URL?: string | undefined;
  CAPTCHA_VERIFY_URL?: string | undefined;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  SMTP_URL?: string | undefined;
  SMTP_TLS_CA_FILE?: string | undefined;
  TC_ALLOW_LOCAL_FAKES?: string | undefined;
  // libpq's variables, which pg reads when the URL carries no password.
  PGPASSWORD?: string | undefined;
  PGPASSFILE?: string | undefined;
}

/** Files, not contents: the processes read them when they connect, so a client key never sits in the config. */
export interface TemporalTls {
  caFile?: string;
  serverName?: string;
  certFile?: string;
  keyFile?: string;
}

/** A local fake rather than the service: plain http (AWS KMS and Stripe answer https only) or this machine. */
export function isLocalEndpoint(url: string): boolean {
  const parsed = new URL(url);
  return parsed.protocol === 'http:' || isLoopback(parsed.hostname);
}

/**
 * No endpoint: AWS KMS for the region, with the SDK's default credential chain (role, web identity,
 * environment). Placeholder credentials go to local-kms only, which accepts any: never to AWS.
 */
export function kmsClientConfig(kms: { endpoint?: string | undefined; region: string }): KMSClientConfig {
  if (!kms.endpoint) return { region: kms.region };
  return {
    region: kms.region,
    endpoint: kms.endpoint,
    ...(isLocalEndpoint(kms.endpoint) ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  };
}

/** TLS to Temporal: asked for by TEMPORAL_TLS=true or implied by any TLS file, server name or an API key. */
export function temporalTls(env: TransportSettings): TemporalTls | undefined {
  const implied = [env.TEMPORAL_TLS_CA_FILE, env.TEMPORAL_TLS_SERVER_NAME, env.TEMPORAL_TLS_CERT_FILE, env.TEMPORAL_TLS_KEY_FILE, env.TEMPORAL_API_KEY]
    .some((value) => value !== undefined);
  if (env.TEMPORAL_TLS === 'false' || (env.TEMPORAL_TLS === undefined && !implied)) return undefined;
  return {
    ...(env.TEMPORAL_TLS_CA_FILE ? { caFile: env.TEMPORAL_TLS_CA_FILE } : {}),
    ...(env.TEMPORAL_TLS_SERVER_NAME ? { serverName: env.TEMPORAL_TLS_SERVER_NAME } : {}),
    ...(env.TEMPORAL_TLS_CERT_FILE ? { certFile: env.TEMPORAL_TLS_CERT_FILE } : {}),
    ...(env.TEMPORAL_TLS_KEY_FILE ? { keyFile: env.TEMPORAL_TLS_KEY_FILE } : {}),
  };
}

/** A fake the override may let in runs on this machine: plain http to another host is never allowed. */
const onThisMachine = (url: string) => isLoopback(new URL(url).hostname);

/** What the test override lets in: named fakes, and only on this machine (never plain http to another host). */
function allowedFakes(env: Pick<TransportSettings, 'NODE_ENV' | 'TC_ALLOW_LOCAL_FAKES'>): Set<Fakeable> {
  if (env.NODE_ENV !== 'production' || !env.TC_ALLOW_LOCAL_FAKES) return new Set();
  return new Set(list(env.TC_ALLOW_LOCAL_FAKES).filter((name): name is Fakeable => name in FAKEABLE));
}

/**
 * The WARN lines a production process logs at start-up, one per dependency a test override points
 * at a local fake (empty everywhere else).
 */
export function localFakeWarnings(env: TransportSettings): string[] {
  const fakes = allowedFakes(env);
  const names: Record<Fakeable, string> = { stripe: 'Stripe', kms: 'KMS', providers: 'supplier', captcha: 'CAPTCHA' };
  const warnings: string[] = [];
  for (const fake of fakes) {
    for (const setting of FAKEABLE[fake]) {
      const value = env[setting];
      if (value && isLocalEndpoint(value)) warnings.push(`production is using the local ${names[fake]} fake at ${new URL(value).origin}: test override TC_ALLOW_LOCAL_FAKES`);
    }
  }
  return warnings;
}

/** Everything wrong with how this process would connect, one line per setting, never echoing a URL (they hold passwords). */
export function transportProblems(env: TransportSettings, scope: SecretScope): string[] {
  const production = env.NODE_ENV === 'production';
  const problems = [...overrideProblems(env), ...endpointProblems(env, scope)];
  const database = scope === 'migration' ? 'MIGRATION_DATABASE_URL' : 'DATABASE_URL';
  const databaseUrl = env[database];
  if (databaseUrl !== undefined) problems.push(...postgresProblems(database, databaseUrl, env.DATABASE_SSL_CA_FILE, production));
  if (production) {
    for (const name of ['PGPASSWORD', 'PGPASSFILE'] as const) {
      if (env[name]) problems.push(`${name}: refused in production (the password rides in the database URL, and pg would fall back to this)`);
    }
  }
  // The migration job talks to Postgres only.
  if (scope === 'application') problems.push(...redisProblems(env, production), ...temporalProblems(env, production), ...smtpProblems(env, production));
  return problems;
}

function overrideProblems(env: TransportSettings): string[] {
  if (!env.TC_ALLOW_LOCAL_FAKES) return [];
  if (env.NODE_ENV !== 'production') return ['TC_ALLOW_LOCAL_FAKES: a test override of production only (NODE_ENV=production)'];
  const unknown = list(env.TC_ALLOW_LOCAL_FAKES).filter((name) => !(name in FAKEABLE));
  return unknown.length === 0 ? [] : [`TC_ALLOW_LOCAL_FAKES: only ${Object.keys(FAKEABLE).join(', ')} can be faked (not ${unknown.join(', ')})`];
}

function endpointProblems(env: TransportSettings, scope: SecretScope): string[] {
  const problems = kmsEndpointProblems(env);
  if (env.NODE_ENV !== 'production') return problems;
  const fakes = allowedFakes(env);
  if (env.STRIPE_API_URL && isLocalEndpoint(env.STRIPE_API_URL) && !(fakes.has('stripe') && onThisMachine(env.STRIPE_API_URL))) {
    problems.push('STRIPE_API_URL: production refuses http: and loopback URLs (the Stripe fake): unset it for Stripe itself');
  }
  // The suppliers and the CAPTCHA verifier have development defaults (the sandbox on loopback): production names its own,
  // over https. The migration job calls neither.
  if (scope !== 'application') return problems;
  // Span names and attributes are redacted (infra/telemetry/tracing.ts), but a trace still maps who booked what, when.
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT && new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT).protocol !== 'https:') {
    problems.push('OTEL_EXPORTER_OTLP_ENDPOINT: production sends traces over https only (http: is plaintext)');
  }
  for (const [fake, settings] of [['providers', FAKEABLE.providers], ['captcha', FAKEABLE.captcha]] as const) {
    for (const setting of settings) {
      const value = env[setting]; // the hotels' is derived from the flights' when unset
      if (value !== undefined && isLocalEndpoint(value) && !(fakes.has(fake) && onThisMachine(value))) {
        problems.push(`${setting}: production refuses http: and loopback URLs (the local sandbox, its default)`);
      }
    }
  }
  return problems;
}

/** KMS alone: also checked before the sealed secrets file is opened with it. */
export function kmsEndpointProblems(env: Pick<TransportSettings, 'NODE_ENV' | 'KMS_ENDPOINT' | 'TC_ALLOW_LOCAL_FAKES'>): string[] {
  if (env.NODE_ENV !== 'production' || !env.KMS_ENDPOINT || !isLocalEndpoint(env.KMS_ENDPOINT)) return [];
  return allowedFakes(env).has('kms') && onThisMachine(env.KMS_ENDPOINT) ? [] : ['KMS_ENDPOINT: production refuses http: and loopback endpoints (local-kms): unset it for AWS KMS'];
}

function postgresProblems(name: string, url: string, caFile: string | undefined, production: boolean): string[] {
  const mode = sslModeOf(url);
  if (mode !== undefined && !(SSL_MODES as readonly string[]).includes(mode)) {
    return [`${name}: sslmode must be one of ${SSL_MODES.join(', ')}`];
  }
  if (production && mode !== 'verify-full') {
    return [`${name}: production needs sslmode=verify-full (TLS that checks the server's certificate and host name)`];
  }
  // Without both, pg takes the password from PGPASSWORD or ~/.pgpass, or the server lets the role in unasked (trust).
  const { username, password } = new URL(url);
  if (production && (!username || !password)) {
    return [`${name}: production needs the user and its password in it (postgresql://user:password@host:5432/db?sslmode=verify-full)`];
  }
  const problems: string[] = [];
  if (caFile !== undefined) {
    problems.push(...pemProblems('DATABASE_SSL_CA_FILE', caFile));
    if (!usesTls(mode)) problems.push(`DATABASE_SSL_CA_FILE: set, but ${name} does not use TLS (add sslmode=verify-full)`);
  } else if (mode === 'verify-full' || mode === 'verify-ca') {
    problems.push(`DATABASE_SSL_CA_FILE: required by sslmode=${mode} (the CA that signed the server's certificate)`);
  }
  return problems;
}

function redisProblems(env: TransportSettings, production: boolean): string[] {
  const url = new URL(env.REDIS_URL);
  const tls = url.protocol === 'rediss:';
  // infra/redis.ts reads none of it; ioredis would have read `?tls=` or `?keyPrefix=` over the settings.
  if (/[?#]/.test(env.REDIS_URL)) {
    return ['REDIS_URL: takes no query string or fragment (TLS comes from rediss:, the CA from REDIS_TLS_CA_FILE, the key prefix from REDIS_KEY_PREFIX)'];
  }
  if (!/^(\/\d{0,2})?$/.test(url.pathname)) return ['REDIS_URL: its path is the database number (rediss://user:password@host:port/0), or nothing for 0'];
  if (production && !tls) return ['REDIS_URL: production needs rediss: (TLS), redis: is plaintext'];
  // Without both, the connection is Redis's default user: whoever reaches the port.
  if (production && (!url.username || !url.password)) {
    return ['REDIS_URL: production needs an ACL user and its password in it (rediss://user:password@host:port/db)'];
  }
  const problems: string[] = [];
  if (env.REDIS_TLS_CA_FILE !== undefined) {
    problems.push(...pemProblems('REDIS_TLS_CA_FILE', env.REDIS_TLS_CA_FILE));
    if (!tls) problems.push('REDIS_TLS_CA_FILE: set, but REDIS_URL is redis: (plaintext), use rediss:');
  }
  return problems;
}

function temporalProblems(env: TransportSettings, production: boolean): string[] {
  const tls = temporalTls(env);
  const problems: string[] = [];
  if (env.TEMPORAL_TLS === 'false' && temporalTls({ ...env, TEMPORAL_TLS: undefined })) {
    problems.push('TEMPORAL_TLS: false, but TEMPORAL_TLS_* or TEMPORAL_API_KEY ask for TLS');
  } else if (production && !tls) {
    problems.push('TEMPORAL_TLS: production needs TLS to Temporal (TEMPORAL_TLS=true, TEMPORAL_TLS_CA_FILE, a client certificate or TEMPORAL_API_KEY)');
  }
  if ((env.TEMPORAL_TLS_CERT_FILE === undefined) !== (env.TEMPORAL_TLS_KEY_FILE === undefined)) {
    const missing = env.TEMPORAL_TLS_CERT_FILE === undefined ? 'TEMPORAL_TLS_CERT_FILE' : 'TEMPORAL_TLS_KEY_FILE';
    problems.push(`${missing}: mTLS needs both TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE`);
  }
  for (const name of ['TEMPORAL_TLS_CA_FILE', 'TEMPORAL_TLS_CERT_FILE', 'TEMPORAL_TLS_KEY_FILE'] as const) {
    const path = env[name];
    if (path !== undefined) problems.push(...pemProblems(name, path));
  }
  return problems;
}

/**
 * Mail carries sign-in and reset links. nodemailer reads its TLS from the URL: smtps: is TLS from the
 * start; smtp: upgrades with STARTTLS only when the server offers it, unless requireTLS=true; ignoreTLS
 * skips the upgrade, and tls.rejectUnauthorized=false accepts any certificate.
 */
function smtpProblems(env: TransportSettings, production: boolean): string[] {
  const problems = env.SMTP_TLS_CA_FILE === undefined ? [] : pemProblems('SMTP_TLS_CA_FILE', env.SMTP_TLS_CA_FILE);
  if (!production || env.SMTP_URL === undefined) return problems;
  const url = new URL(env.SMTP_URL);
  // nodemailer reads a repeated parameter as a list, which is truthy: only one value counts as that value.
  const only = (key: string) => {
    const values = url.searchParams.getAll(key);
    return values.length > 1 ? 'repeated' : values[0];
  };
  const tls = url.protocol === 'smtps:' || only('requireTLS') === 'true';
  const weakened = !['false', undefined].includes(only('ignoreTLS')) || !['true', undefined].includes(only('tls.rejectUnauthorized'));
  if (!tls || weakened) {
    problems.push('SMTP_URL: production needs verified TLS to the mail server (smtps:, or smtp: with ?requireTLS=true, and neither ignoreTLS nor tls.rejectUnauthorized=false)');
  }
  return problems;
}

/** A file a TLS setting names must be there and hold PEM; checked at start-up so a bad mount is one clear line. */
function pemProblems(name: string, path: string): string[] {
  try {
    return readFileSync(path, 'utf8').includes('-----BEGIN ') ? [] : [`${name}: the file it names holds no PEM`];
  } catch {
    return [`${name}: cannot read the file it names`];
  }
}

function list(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter(Boolean);
}
