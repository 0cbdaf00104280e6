import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kmsSettings, loadConfig } from './config.js';
import { redisOptions } from './redis.js';
import { SECRET_VARIABLES } from './secrets.js';
import { kmsClientConfig } from './transport-policy.js';
import { DUMMY_PEM, productionEnv } from '../test/support/production-env.js';

// SECURITY.md §33: production connects to every store over verified TLS and to AWS KMS and Stripe
// themselves; only a production-profile test may point it at the local fakes, and says so.

const development = (env: NodeJS.ProcessEnv = {}) => loadConfig({ NODE_ENV: 'development', ...env });
const dir = mkdtempSync(join(tmpdir(), 'tc-transport-'));
/** A mounted file, as an operator would give one. */
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}
const pem = file('ca.pem', DUMMY_PEM);
const PASSWORD = 's3cret-in-the-url';

/** The one line production refuses `env` with (overrides of the valid production environment). */
function productionRefusal(overrides: NodeJS.ProcessEnv): string {
  try {
    loadConfig(productionEnv(overrides));
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('production accepted it');
}

describe('development and test', () => {
  it('use the local fakes and plaintext stores by default, and warn about nothing', () => {
    const config = development();
    expect(config.kms.endpoint).toBe('http://127.0.0.1:4599');
    expect(config.stripe.apiUrl).toBe('http://127.0.0.1:8420');
    expect(config.temporal.tls).toBeUndefined();
    expect(config.redis.url).toBe('redis://127.0.0.1:6379/0');
    expect(config.localFakeWarnings).toEqual([]);
    expect(loadConfig({ NODE_ENV: 'test' }).kms.endpoint).toBe('http://127.0.0.1:4599');
  });

  it('take TLS settings too, and refuse ones that contradict each other or name no PEM file', () => {
    expect(development({ REDIS_URL: 'rediss://u:p@cache:6380/0', REDIS_TLS_CA_FILE: pem }).redis.caFile).toBe(pem);
    expect(() => development({ REDIS_TLS_CA_FILE: pem })).toThrow(/^Invalid configuration: REDIS_TLS_CA_FILE: set, but REDIS_URL is redis: \(plaintext\)/);
    expect(() => development({ DATABASE_SSL_CA_FILE: pem })).toThrow(/DATABASE_SSL_CA_FILE: set, but DATABASE_URL does not use TLS/);
    expect(() => development({ DATABASE_URL: 'postgresql://a:b@db/x?sslmode=verify-full' })).toThrow(/DATABASE_SSL_CA_FILE: required by sslmode=verify-full/);
    expect(() => development({ DATABASE_URL: 'postgresql://a:b@db/x?sslmode=verify_full' })).toThrow(/DATABASE_URL: sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full/);
    expect(() => development({ TEMPORAL_TLS_CA_FILE: join(dir, 'missing.pem') })).toThrow(/TEMPORAL_TLS_CA_FILE: cannot read the file it names/);
    expect(() => development({ TEMPORAL_TLS_CA_FILE: file('not-pem', 'hello') })).toThrow(/TEMPORAL_TLS_CA_FILE: the file it names holds no PEM/);
    expect(() => development({ TEMPORAL_TLS_CERT_FILE: pem })).toThrow(/TEMPORAL_TLS_KEY_FILE: mTLS needs both/);
    expect(() => development({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA_FILE: pem })).toThrow(/TEMPORAL_TLS: false, but TEMPORAL_TLS_\* or TEMPORAL_API_KEY ask for TLS/);
  });

  it('turn TLS to Temporal on by TEMPORAL_TLS or by any TLS file, server name or API key', () => {
    expect(development({ TEMPORAL_TLS: 'true' }).temporal.tls).toEqual({});
    expect(development({ TEMPORAL_TLS_SERVER_NAME: 'frontend.internal' }).temporal.tls).toEqual({ serverName: 'frontend.internal' });
    expect(development({ TEMPORAL_TLS_CERT_FILE: pem, TEMPORAL_TLS_KEY_FILE: pem }).temporal.tls).toEqual({ certFile: pem, keyFile: pem });
    const cloud = development({ TEMPORAL_API_KEY: 'tc-cloud-key' }).temporal;
    expect(cloud).toMatchObject({ tls: {}, apiKey: 'tc-cloud-key' });
  });

  it('refuse the production-profile test override', () => {
    expect(() => development({ TC_ALLOW_LOCAL_FAKES: 'stripe' })).toThrow(/^Invalid configuration: TC_ALLOW_LOCAL_FAKES: a test override of production only/);
  });
});

describe('production', () => {
  it('accepts TLS to every store and defaults to AWS KMS and Stripe themselves', () => {
    const config = loadConfig(productionEnv());
    expect(config.kms.endpoint).toBeUndefined();
    expect(config.stripe.apiUrl).toBe('https://api.stripe.com');
    expect(config.database).toMatchObject({ caFile: expect.any(String) });
    expect(new URL(config.database.url).searchParams.get('sslmode')).toBe('verify-full');
    expect(config.redis.url.startsWith('rediss://')).toBe(true);
    expect(config.temporal.tls).toMatchObject({ caFile: expect.any(String), certFile: expect.any(String), keyFile: expect.any(String) });
    expect(config.localFakeWarnings).toEqual([]);
    // Temporal Cloud: an API key (mounted) and no client certificate.
    const cloud = loadConfig(productionEnv({
      TEMPORAL_TLS_CA_FILE: '', TEMPORAL_TLS_CERT_FILE: '', TEMPORAL_TLS_KEY_FILE: '', TEMPORAL_API_KEY_FILE: file('api-key', 'tc-cloud-key\n'),
    }));
    expect(cloud.temporal).toMatchObject({ tls: {}, apiKey: 'tc-cloud-key' });
  });

  it('refuses plaintext or unverified Postgres, naming the URL and never echoing it', () => {
    for (const query of ['', '?sslmode=disable', '?sslmode=prefer', '?sslmode=require', '?sslmode=verify-ca']) {
      const line = productionRefusal({ DATABASE_URL_FILE: file('db-url', `postgresql://app:${PASSWORD}@db.internal:5432/tc${query}`) });
      expect(line, query).toMatch(/^Invalid configuration: DATABASE_URL: production needs sslmode=verify-full[^;]*$/);
      expect(line).not.toContain(PASSWORD);
    }
    expect(productionRefusal({ DATABASE_SSL_CA_FILE: '' })).toMatch(/^Invalid configuration: DATABASE_SSL_CA_FILE: required by sslmode=verify-full[^;]*$/);
    // The migration job too, which talks to Postgres alone (no Redis or Temporal settings needed).
    const owner = (query: string) => ({ NODE_ENV: 'production', MIGRATION_DATABASE_URL_FILE: file('owner-url', `postgresql://owner:${PASSWORD}@db.internal:5432/tc${query}`) });
    expect(() => loadConfig(owner(''), {}, 'migration')).toThrow(/^Invalid configuration: MIGRATION_DATABASE_URL: production needs sslmode=verify-full[^;]*$/);
    expect(loadConfig({ ...owner('?sslmode=verify-full'), DATABASE_SSL_CA_FILE: pem }, {}, 'migration').migrationDatabase).toMatchObject({ caFile: pem });
  });

  it('refuses a database URL without its user and password, and PGPASSWORD or PGPASSFILE beside it, never echoing the URL', () => {
    // Without them pg falls back to PGPASSWORD, ~/.pgpass or trust authentication.
    for (const credentials of ['', 'app@', 'app:@', `:${PASSWORD}@`]) {
      const line = productionRefusal({ DATABASE_URL_FILE: file('db-no-auth', `postgresql://${credentials}db.internal:5432/tc?sslmode=verify-full`) });
      expect(line, credentials).toMatch(/^Invalid configuration: DATABASE_URL: production needs the user and its password in it[^;]*$/);
      expect(line).not.toContain(PASSWORD);
    }
    const owner = (credentials: string) => ({ NODE_ENV: 'production', DATABASE_SSL_CA_FILE: pem, MIGRATION_DATABASE_URL_FILE: file('owner-no-auth', `postgresql://${credentials}db.internal:5432/tc?sslmode=verify-full`) });
    expect(() => loadConfig(owner('owner@'), {}, 'migration')).toThrow(/^Invalid configuration: MIGRATION_DATABASE_URL: production needs the user and its password in it[^;]*$/);
    expect(productionRefusal({ PGPASSWORD: PASSWORD })).toBe('Invalid configuration: PGPASSWORD: refused in production (the password rides in the database URL, and pg would fall back to this)');
    expect(productionRefusal({ PGPASSFILE: '/home/app/.pgpass' })).toBe('Invalid configuration: PGPASSFILE: refused in production (the password rides in the database URL, and pg would fall back to this)');
    expect(() => loadConfig({ ...owner(`owner:${PASSWORD}@`), PGPASSWORD: PASSWORD }, {}, 'migration')).toThrow(/^Invalid configuration: PGPASSWORD: refused in production[^;]*$/);
    expect(loadConfig({ ...owner(`owner:${PASSWORD}@`) }, {}, 'migration').migrationDatabase?.url).toContain('owner:');
    // Development keeps whatever its developer uses.
    expect(development({ PGPASSWORD: 'local', DATABASE_URL: 'postgresql://127.0.0.1:5432/travelconnect' }).database.url).toBe('postgresql://127.0.0.1:5432/travelconnect');
  });

  it('refuses plaintext Redis, and REDIS_URL as a plain variable (it carries the password)', () => {
    const line = productionRefusal({ REDIS_URL_FILE: file('redis-url', `redis://app:${PASSWORD}@cache.internal:6379/0`) });
    expect(line).toMatch(/^Invalid configuration: REDIS_URL: production needs rediss: \(TLS\)[^;]*$/);
    expect(line).not.toContain(PASSWORD);
    expect(productionRefusal({ REDIS_URL_FILE: '', REDIS_URL: `rediss://app:${PASSWORD}@cache.internal:6380/0` }))
      .toBe('Invalid configuration: REDIS_URL: plain environment values are refused in production; mount it and set REDIS_URL_FILE');
    expect(SECRET_VARIABLES).toEqual(expect.arrayContaining(['REDIS_URL', 'TEMPORAL_API_KEY']));
  });

  it('refuses Redis without an ACL user and its password, naming REDIS_URL and never echoing it', () => {
    for (const credentials of ['', `:${PASSWORD}@`, 'app@', `app:@`]) {
      const line = productionRefusal({ REDIS_URL_FILE: file('redis-no-auth', `rediss://${credentials}cache.internal:6380/0`) });
      expect(line, credentials).toMatch(/^Invalid configuration: REDIS_URL: production needs an ACL user and its password[^;]*$/);
      expect(line).not.toContain(PASSWORD);
    }
    expect(loadConfig(productionEnv({ REDIS_URL_FILE: file('redis-auth', `rediss://app:${PASSWORD}@cache.internal:6380/0`) })).redis.url)
      .toContain('rediss://app:');
  });

  it('refuses a query string or fragment in REDIS_URL anywhere (ioredis would read it over TLS, the CA and the key prefix), never echoing it', () => {
    for (const rest of ['?tls', '?tls=', '?tls=x', '?keyPrefix=elsewhere:', '?', '#tls']) {
      const line = productionRefusal({ REDIS_URL_FILE: file('redis-query', `rediss://app:${PASSWORD}@cache.internal:6380/0${rest}`) });
      expect(line, rest).toMatch(/^Invalid configuration: REDIS_URL: takes no query string or fragment[^;]*$/);
      expect(line).not.toContain(PASSWORD);
    }
    expect(() => development({ REDIS_URL: 'redis://127.0.0.1:6379/0?db=3' })).toThrow(/^Invalid configuration: REDIS_URL: takes no query string or fragment[^;]*$/);
    expect(() => development({ REDIS_URL: 'redis://127.0.0.1:6379/zero' })).toThrow(/^Invalid configuration: REDIS_URL: its path is the database number[^;]*$/);
  });

  it('refuses mail without required TLS (smtps:, or smtp: with requireTLS=true), naming SMTP_URL and never echoing it', () => {
    const smtp = (url: string) => ({ SMTP_URL_FILE: file('smtp-url', url) });
    for (const url of [
      `smtp://mailer:${PASSWORD}@smtp.internal:587`,
      `smtp://mailer:${PASSWORD}@smtp.internal:587?requireTLS=false`,
      // nodemailer skips STARTTLS on ignoreTLS whatever requireTLS says, and trusts any certificate on rejectUnauthorized=false.
      `smtp://mailer:${PASSWORD}@smtp.internal:587?requireTLS=true&ignoreTLS=true`,
      `smtps://mailer:${PASSWORD}@smtp.internal:465?tls.rejectUnauthorized=false`,
      // A repeated parameter is a list to nodemailer, and a list is truthy.
      `smtp://mailer:${PASSWORD}@smtp.internal:587?requireTLS=true&ignoreTLS=false&ignoreTLS=true`,
    ]) {
      const line = productionRefusal(smtp(url));
      expect(line, url).toMatch(/^Invalid configuration: SMTP_URL: production needs verified TLS to the mail server[^;]*$/);
      expect(line).not.toContain(PASSWORD);
    }
    expect(loadConfig(productionEnv(smtp(`smtp://mailer:${PASSWORD}@smtp.internal:587?requireTLS=true`))).mail.smtpUrl).toContain('requireTLS=true');
    expect(loadConfig(productionEnv(smtp(`smtps://mailer:${PASSWORD}@smtp.internal:465`))).mail.smtpUrl).toMatch(/^smtps:/);
    // Development keeps its plaintext sink and relay.
    expect(development({ SMTP_URL: 'smtp://127.0.0.1:2525' }).mail.smtpUrl).toBe('smtp://127.0.0.1:2525');
  });

  it('refuses Temporal without TLS, and a plain TEMPORAL_API_KEY', () => {
    const plaintext = { TEMPORAL_TLS_CA_FILE: '', TEMPORAL_TLS_CERT_FILE: '', TEMPORAL_TLS_KEY_FILE: '' };
    expect(productionRefusal(plaintext)).toMatch(/^Invalid configuration: TEMPORAL_TLS: production needs TLS to Temporal[^;]*$/);
    expect(productionRefusal({ ...plaintext, TEMPORAL_TLS: 'false' })).toMatch(/^Invalid configuration: TEMPORAL_TLS: production needs TLS/);
    expect(loadConfig(productionEnv({ ...plaintext, TEMPORAL_TLS: 'true' })).temporal.tls).toEqual({});
    expect(productionRefusal({ TEMPORAL_API_KEY: 'tc-cloud-key' })).toBe('Invalid configuration: TEMPORAL_API_KEY: plain environment values are refused in production; mount it and set TEMPORAL_API_KEY_FILE');
  });

  it('refuses local-kms, any http: or loopback KMS endpoint, and the Stripe fake', () => {
    for (const endpoint of ['http://127.0.0.1:4599', 'http://kms.internal', 'https://localhost:4599', 'https://[::1]:4599', 'https://localhost.:4599', 'https://kms.localhost.']) {
      expect(productionRefusal({ KMS_ENDPOINT: endpoint }), endpoint).toMatch(/^Invalid configuration: KMS_ENDPOINT: production refuses http: and loopback endpoints[^;]*$/);
    }
    expect(loadConfig(productionEnv({ KMS_ENDPOINT: 'https://kms.eu-west-1.amazonaws.com' })).kms.endpoint).toBe('https://kms.eu-west-1.amazonaws.com');
    for (const url of ['http://127.0.0.1:8420', 'https://127.0.0.1:8420', 'http://stripe.internal', 'https://localhost.:8420']) {
      expect(productionRefusal({ STRIPE_API_URL: url }), url).toMatch(/^Invalid configuration: STRIPE_API_URL: production refuses http: and loopback URLs[^;]*$/);
    }
    // The sealed secrets file is opened with KMS before the rest is parsed: the same rule holds there.
    expect(() => kmsSettings({ NODE_ENV: 'production', KMS_ENDPOINT: 'http://127.0.0.1:4599' })).toThrow(/^Invalid configuration: KMS_ENDPOINT: production refuses/);
    expect(kmsSettings({ NODE_ENV: 'production' }).endpoint).toBeUndefined();
    expect(kmsSettings({ NODE_ENV: 'development' }).endpoint).toBe('http://127.0.0.1:4599');
  });

  it('exports no traces unless OTEL_EXPORTER_OTLP_ENDPOINT is set, and then over https only', () => {
    expect(loadConfig(productionEnv()).tracing.otlpTracesUrl).toBeUndefined();
    expect(development().tracing.otlpTracesUrl).toBeUndefined();
    expect(development({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).tracing.otlpTracesUrl).toBe('http://127.0.0.1:4318/v1/traces');
    expect(loadConfig(productionEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.internal:4318/' })).tracing.otlpTracesUrl).toBe('https://otel.internal:4318/v1/traces');
    for (const url of ['http://otel.internal:4318', 'http://127.0.0.1:4318']) {
      expect(productionRefusal({ OTEL_EXPORTER_OTLP_ENDPOINT: url }), url).toBe('Invalid configuration: OTEL_EXPORTER_OTLP_ENDPOINT: production sends traces over https only (http: is plaintext)');
    }
    expect(() => development({ OTEL_EXPORTER_OTLP_ENDPOINT: 'otel.internal:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT: must be a URL/);
  });

  it("has browsers load Stripe.js from Stripe itself: any other STRIPE_JS_URL is refused", () => {
    expect(loadConfig(productionEnv()).stripe.jsUrl).toBe('https://js.stripe.com/v3/');
    expect(loadConfig(productionEnv({ STRIPE_JS_URL: 'https://js.stripe.com/v3/' })).stripe.jsUrl).toBe('https://js.stripe.com/v3/');
    for (const url of ['http://127.0.0.1:8420/js.stripe.com/v3/', 'http://js.stripe.com/v3/', 'https://js.stripe.com.evil.example/v3/', 'https://cdn.example/stripe/v3/']) {
      expect(productionRefusal({ STRIPE_JS_URL: url }), url).toMatch(/^Invalid configuration: STRIPE_JS_URL: production loads Stripe.js from https:\/\/js\.stripe\.com[^;]*$/);
    }
    // Not even with the test override that lets in the Stripe fake's API: the app's CSP would name the fake.
    expect(productionRefusal({ TC_ALLOW_LOCAL_FAKES: 'stripe', STRIPE_API_URL: 'http://127.0.0.1:8420', STRIPE_JS_URL: 'http://127.0.0.1:8420/js.stripe.com/v3/' }))
      .toMatch(/^Invalid configuration: STRIPE_JS_URL: /);
  });

  it('lets a production-profile test use the named local fakes, one warning each, and never relaxes TLS to a store', () => {
    const fakes = { TC_ALLOW_LOCAL_FAKES: 'stripe,kms', STRIPE_API_URL: 'http://127.0.0.1:8420', KMS_ENDPOINT: 'http://127.0.0.1:4599' };
    expect(loadConfig(productionEnv(fakes)).localFakeWarnings).toEqual([
      'production is using the local Stripe fake at http://127.0.0.1:8420: test override TC_ALLOW_LOCAL_FAKES',
      'production is using the local KMS fake at http://127.0.0.1:4599: test override TC_ALLOW_LOCAL_FAKES',
    ]);
    // Only what it names.
    expect(productionRefusal({ ...fakes, TC_ALLOW_LOCAL_FAKES: 'stripe' })).toMatch(/^Invalid configuration: KMS_ENDPOINT: production refuses[^;]*$/);
    // The suppliers, the CAPTCHA verifier and the mailed links: their development defaults are refused too.
    expect(productionRefusal({ SANDBOX_PROVIDER_URL: 'http://127.0.0.1:4010' })).toMatch(/^Invalid configuration: SANDBOX_PROVIDER_URL: production refuses http: and loopback URLs/);
    expect(productionRefusal({ HOTEL_PROVIDER_URL: 'https://localhost.:4010/hotels' })).toMatch(/^Invalid configuration: HOTEL_PROVIDER_URL: production refuses http: and loopback URLs/);
    expect(productionRefusal({ CAPTCHA_VERIFY_URL: '' })).toMatch(/^Invalid configuration: CAPTCHA_VERIFY_URL: production refuses http: and loopback URLs/);
    expect(productionRefusal({ PUBLIC_APP_URL: 'http://127.0.0.1:3000' })).toMatch(/^Invalid configuration: PUBLIC_APP_URL: production needs its own https address/);
    // The override lets in fakes on this machine only: plain http to another host stays refused.
    expect(productionRefusal({ ...fakes, STRIPE_API_URL: 'http://stripe-proxy.internal' })).toMatch(/^Invalid configuration: STRIPE_API_URL: production refuses/);
    expect(productionRefusal({ ...fakes, TC_ALLOW_LOCAL_FAKES: 'stripe,kms,redis' })).toMatch(/^Invalid configuration: TC_ALLOW_LOCAL_FAKES: only stripe, kms, providers, captcha can be faked \(not redis\)$/);
    // Stores keep their TLS.
    expect(productionRefusal({ ...fakes, REDIS_URL_FILE: file('plain-redis', 'redis://cache.internal:6379/0'), REDIS_TLS_CA_FILE: '' })).toMatch(/REDIS_URL: production needs rediss:/);
    expect(productionRefusal({ ...fakes, TEMPORAL_TLS_CA_FILE: '', TEMPORAL_TLS_CERT_FILE: '', TEMPORAL_TLS_KEY_FILE: '' })).toMatch(/TEMPORAL_TLS: production needs TLS/);
  });
});

describe('what the clients are given', () => {
  it('KMS: placeholder credentials for the local fake only, the AWS credential chain otherwise', () => {
    expect(kmsClientConfig({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:4599' }).credentials).toEqual({ accessKeyId: 'local', secretAccessKey: 'local' });
    expect(kmsClientConfig({ region: 'eu-west-1', endpoint: 'http://kms:8080' }).credentials).toBeDefined(); // local-kms under Docker Compose
    expect(kmsClientConfig({ region: 'eu-west-1', endpoint: 'https://kms.eu-west-1.amazonaws.com' })).toEqual({ region: 'eu-west-1', endpoint: 'https://kms.eu-west-1.amazonaws.com' });
    expect(kmsClientConfig({ region: 'eu-west-1', endpoint: undefined })).toEqual({ region: 'eu-west-1' });
  });

  it('Redis: verified TLS with the CA for rediss:, none for redis:', () => {
    expect(redisOptions({ url: 'rediss://u:p@cache:6380/0', keyPrefix: 'tc:', caFile: pem }).tls).toEqual({ rejectUnauthorized: true, ca: DUMMY_PEM });
    expect(redisOptions({ url: 'rediss://u:p@cache:6380/0', keyPrefix: 'tc:' }).tls).toEqual({ rejectUnauthorized: true });
    expect(redisOptions({ url: 'redis://127.0.0.1:6379/0', keyPrefix: 'tc:' }).tls).toBeUndefined();
  });

  it('Redis: everything from the parsed URL and the settings, nothing from its query string', () => {
    const options = redisOptions({ url: 'rediss://ap%40p:p%3Aw@[::1]:6380/2?tls=&keyPrefix=elsewhere:&password=other', keyPrefix: 'tc:', caFile: pem });
    expect(options).toMatchObject({ host: '::1', port: 6380, username: 'ap@p', password: 'p:w', db: 2, keyPrefix: 'tc:', tls: { rejectUnauthorized: true, ca: DUMMY_PEM } });
    expect(redisOptions({ url: 'redis://cache', keyPrefix: 'tc:' })).toMatchObject({ host: 'cache', port: 6379, db: 0 });
    expect(redisOptions({ url: 'redis://cache', keyPrefix: 'tc:' })).not.toHaveProperty('password');
  });
});
