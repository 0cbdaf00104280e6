import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, requireMigrationDatabase, SANDBOX_SETTINGS, requireWorkerVersion } from './config.js';
import { DEVELOPMENT_SECRETS } from './secrets.js';
import { productionEnv } from '../test/support/production-env.js';

/** Development, as `npm run up` sets it. */
const development = (env: NodeJS.ProcessEnv = {}) => loadConfig({ NODE_ENV: 'development', ...env });

describe('config', () => {
  it('serves local development with defaults and freezes the result', () => {
    const config = development();
    expect(config.api.port).toBe(3000);
    expect(config.temporal.address).toBe('127.0.0.1:7233');
    expect(Object.isFrozen(config.database)).toBe(true);
  });

  it('connects the application as travelconnect_app and migrates as the owner, by default', () => {
    const config = development();
    expect(new URL(config.database.url).username).toBe('travelconnect_app');
    expect(new URL(config.database.url).password).toBeTruthy();
    expect(new URL(requireMigrationDatabase(config).url).username).toBe('travelconnect');
    expect(development({ MIGRATION_DATABASE_URL: 'postgres://owner:pw@db:5432/x' }).migrationDatabase?.url).toBe('postgres://owner:pw@db:5432/x');
    expect(() => development({ MIGRATION_DATABASE_URL: 'db:5432' })).toThrow(/MIGRATION_DATABASE_URL: must be a URL/);
  });

  it('names the variable that is wrong', () => {
    expect(() => development({ DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL/);
    expect(() => development({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => development({ TEMPORAL_ADDRESS: 'localhost' })).toThrow(/TEMPORAL_ADDRESS: must be host:port/);
  });

  it('starts nothing without an explicit NODE_ENV, whatever the scope', () => {
    const required = /^Invalid configuration: NODE_ENV: required \(development, test or production\)/;
    expect(() => loadConfig({})).toThrow(required);
    expect(() => loadConfig({ NODE_ENV: '' })).toThrow(required);
    expect(() => loadConfig({}, {}, 'migration')).toThrow(required);
    expect(() => loadConfig({ NODE_ENV: 'staging' })).toThrow(/NODE_ENV: must be development, test or production/);
    expect(loadConfig({ NODE_ENV: 'test' }).nodeEnv).toBe('test');
  });

  it("in production, trusts the Temporal Web UI's origin at /codec/* only when it is set, https and not loopback", () => {
    const ui = 'https://temporal-ui.travelconnect.example';
    expect(loadConfig(productionEnv({ TEMPORAL_UI_URL: ui })).temporal.uiUrl).toBe(ui);
    expect(() => loadConfig(productionEnv({ TEMPORAL_UI_URL: undefined }))).toThrow(/^Invalid configuration: TEMPORAL_UI_URL: production needs the Web UI's own https URL[^;]*$/);
    for (const url of ['http://127.0.0.1:8233', 'http://temporal-ui.travelconnect.example', 'https://localhost:8233', 'https://[::1]:8233', 'https://localhost.', 'https://ui.localhost..:8233']) {
      expect(() => loadConfig(productionEnv({ TEMPORAL_UI_URL: url })), url).toThrow(/^Invalid configuration: TEMPORAL_UI_URL: .* is refused in production[^;]*$/);
    }
    expect(development().temporal.uiUrl).toBe('http://127.0.0.1:8233');
  });

  it('in production, takes browser origins only as https origins of its own, never the development ones', () => {
    expect(loadConfig(productionEnv()).auth.corsOrigins).toEqual(['https://app.travelconnect.example']);
    expect(() => loadConfig(productionEnv({ CORS_ORIGINS: '' }))).toThrow(/^Invalid configuration: CORS_ORIGINS: production needs its own list[^;]*$/);
    expect(() => loadConfig(productionEnv({ CORS_ORIGINS: 'http://localhost:5173,http://127.0.0.1:5173' }))).toThrow(/CORS_ORIGINS: /);
    for (const origin of ['http://app.travelconnect.example', 'https://localhost', 'https://api.localhost:8443', 'https://127.0.0.1', 'https://127.9.0.1:8443', 'https://[::1]:8443', 'https://0.0.0.0', 'https://localhost.', 'https://api.localhost.:8443']) {
      expect(() => loadConfig(productionEnv({ CORS_ORIGINS: `https://app.travelconnect.example,${origin}` })), origin).toThrow(
        new RegExp(`^Invalid configuration: CORS_ORIGINS: ${origin.replace(/[.[\]]/g, '\\$&')} is refused in production`),
      );
    }
    // Where mailed links point: never this machine, however its name is spelled.
    for (const url of ['https://localhost./', 'https://app.localhost./', 'https://127.0.0.1./']) {
      expect(() => loadConfig(productionEnv({ PUBLIC_APP_URL: url })), url).toThrow(/^Invalid configuration: PUBLIC_APP_URL: production needs its own https address[^;]*$/);
    }
    // An entry that is not an origin would never match a browser's Origin header; anywhere.
    expect(() => development({ CORS_ORIGINS: 'https://app.travelconnect.example/' })).toThrow(/CORS_ORIGINS: https:\/\/app.travelconnect.example\/ is not an origin/);
    expect(() => development({ CORS_ORIGINS: 'null' })).toThrow(/CORS_ORIGINS: `null` is never allowed/);
    // Development keeps its local defaults.
    expect(development().auth.corsOrigins).toEqual(['http://localhost:5173', 'http://127.0.0.1:5173']);
  });

  it('behind a proxy in production, needs TRUSTED_PROXIES', () => {
    expect(() => loadConfig(productionEnv({ BEHIND_PROXY: 'true' }))).toThrow(/^Invalid configuration: TRUSTED_PROXIES: required in production when BEHIND_PROXY=true[^;]*$/);
    expect(loadConfig(productionEnv({ BEHIND_PROXY: 'true', TRUSTED_PROXIES: '10.0.0.0/8' })).auth.trustedProxies).toEqual(['10.0.0.0/8']);
    expect(loadConfig(productionEnv({ BEHIND_PROXY: 'false' })).auth.trustedProxies).toEqual([]);
    expect(development({ BEHIND_PROXY: 'true' }).auth.trustedProxies).toEqual([]);
    expect(() => development({ BEHIND_PROXY: 'yes' })).toThrow(/BEHIND_PROXY: must be true or false/);
  });

  it("gives browsers the Stripe fake's key and Stripe.js outside production, and needs a real key in it", () => {
    expect(development({ STRIPE_API_URL: 'http://127.0.0.1:9999' }).stripe).toMatchObject({
      publishableKey: 'pk_test_localstripe',
      jsUrl: 'http://127.0.0.1:9999/js.stripe.com/v3/',
    });
    expect(loadConfig(productionEnv()).stripe.jsUrl).toBe('https://js.stripe.com/v3/');
    expect(() => loadConfig(productionEnv({ STRIPE_PUBLISHABLE_KEY: '' }))).toThrow(/^Invalid configuration: STRIPE_PUBLISHABLE_KEY: required in production[^;]*$/);
    // Given explicitly, the fake's key is still the fake's.
    expect(() => loadConfig(productionEnv({ STRIPE_PUBLISHABLE_KEY: 'pk_test_localstripe' }))).toThrow(/^Invalid configuration: STRIPE_PUBLISHABLE_KEY: required in production[^;]*$/);
    expect(() => development({ STRIPE_PUBLISHABLE_KEY: 'sk_test_oops' })).toThrow(/STRIPE_PUBLISHABLE_KEY: must be a Stripe publishable key/);
  });

  it('stops the API process with one clear line before it touches anything', () => {
    const result = spawnSync('npx', ['tsx', 'api/server.ts'], {
      env: { ...process.env, DATABASE_URL: 'postgres//broken' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(78);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: DATABASE_URL: /);
  });

  it('reads secrets from mounted files', () => {
    const config = loadConfig(productionEnv());
    expect(config.stripe.secretKey).toBe('sk_live_not_a_real_key_0123456789');
    expect(config.database.url).toContain('db.internal');
    expect(config.audit.hmacKey).toBe('a-production-audit-key-of-at-least-32-chars');
  });

  it('refuses plain secret variables and development defaults in production, without echoing them', () => {
    const plain = () => loadConfig(productionEnv({ STRIPE_SECRET_KEY_FILE: '', STRIPE_SECRET_KEY: 'sk_live_leaky_value' }));
    expect(plain).toThrow(/STRIPE_SECRET_KEY: plain environment values are refused in production/);
    expect(plain).not.toThrow(/sk_live_leaky_value/);
    expect(() => loadConfig(productionEnv({ AUDIT_HMAC_KEY_FILE: '' }))).toThrow(/AUDIT_HMAC_KEY: production needs its own secret/);
    expect(() => loadConfig(productionEnv({ STRIPE_WEBHOOK_SECRET_FILE: '/nonexistent/secret' }))).toThrow(
      /STRIPE_WEBHOOK_SECRET_FILE: cannot read the file/,
    );
    // Every development default, the public JWT key ring included, mounted as if it were a secret.
    const dir = mkdtempSync(join(tmpdir(), 'tc-dev-secrets-'));
    for (const name of (Object.keys(DEVELOPMENT_SECRETS) as (keyof typeof DEVELOPMENT_SECRETS)[]).filter((secret) => secret !== 'MIGRATION_DATABASE_URL')) {
      const path = join(dir, name);
      writeFileSync(path, DEVELOPMENT_SECRETS[name], { mode: 0o600 });
      const refused = () => loadConfig(productionEnv({ [`${name}_FILE`]: path }));
      expect(refused, name).toThrow(new RegExp(`^Invalid configuration: ${name}: production needs its own secret[^;]*$`));
      expect(refused, name).not.toThrow(DEVELOPMENT_SECRETS[name]);
    }
  });

  it('keeps the owner\'s database URL out of the API and worker in production, and gives the migration job nothing else', () => {
    const env = productionEnv();
    expect(loadConfig(env).migrationDatabase).toBeUndefined();
    expect(() => requireMigrationDatabase(loadConfig(env))).toThrow(/MIGRATION_DATABASE_URL: required to migrate/);
    const owner = join(mkdtempSync(join(tmpdir(), 'tc-owner-')), 'owner-url');
    writeFileSync(owner, 'postgresql://travelconnect:0wner-pass@db.internal:5432/travelconnect?sslmode=verify-full\n', { mode: 0o600 });
    // The migration job reaches the same server over the same verified TLS.
    const tls = { DATABASE_SSL_CA_FILE: env.DATABASE_SSL_CA_FILE };
    // However it is given, the application refuses it (and never echoes it).
    const refused = () => loadConfig({ ...env, MIGRATION_DATABASE_URL_FILE: owner });
    expect(refused).toThrow(/MIGRATION_DATABASE_URL: the owner's URL is refused by the API and worker in production/);
    expect(refused).not.toThrow(/0wner-pass/);
    expect(() => loadConfig(env, { MIGRATION_DATABASE_URL: 'postgresql://o:p@db/x' })).toThrow(/MIGRATION_DATABASE_URL: the owner's URL is refused/);

    // The migration job: the owner's URL, mounted, and no other secret required.
    const migration = loadConfig({ NODE_ENV: 'production', MIGRATION_DATABASE_URL_FILE: owner, ...tls }, {}, 'migration');
    expect(requireMigrationDatabase(migration).url).toBe('postgresql://travelconnect:0wner-pass@db.internal:5432/travelconnect?sslmode=verify-full');
    expect(() => loadConfig({ NODE_ENV: 'production' }, {}, 'migration')).toThrow(/^Invalid configuration: MIGRATION_DATABASE_URL: production needs its own secret[^;]*$/);
    expect(() => loadConfig({ NODE_ENV: 'production', MIGRATION_DATABASE_URL: 'postgresql://o:p@db/x' }, {}, 'migration')).toThrow(
      /MIGRATION_DATABASE_URL: plain environment values are refused in production/,
    );
    // A secret it is given anyway is still held to production's rules.
    expect(() => loadConfig({ NODE_ENV: 'production', MIGRATION_DATABASE_URL_FILE: owner, ...tls, STRIPE_SECRET_KEY: 'sk_live_x' }, {}, 'migration')).toThrow(
      /STRIPE_SECRET_KEY: plain environment values are refused/,
    );
  });

  it('runs a production worker only as a Worker Deployment Version, naming WORKER_BUILD_ID when it has none', () => {
    expect(() => requireWorkerVersion(loadConfig(productionEnv()))).toThrow(/^Invalid configuration: WORKER_BUILD_ID: required in production[^;]*$/);
    expect(requireWorkerVersion(loadConfig(productionEnv({ WORKER_BUILD_ID: '1842c76' })))).toEqual({ deploymentName: 'travelconnect-booking', buildId: '1842c76' });
    expect(requireWorkerVersion(development({ WORKER_BUILD_ID: 'abc', WORKER_DEPLOYMENT_NAME: 'tc-staging' }))).toEqual({ deploymentName: 'tc-staging', buildId: 'abc' });
    // Outside production a worker may poll unversioned, as the tests' and `npm run up`'s do.
    expect(requireWorkerVersion(development())).toBeUndefined();
    // Temporal joins the two with `:` and `.` in version strings; a name holding either is refused.
    expect(() => development({ WORKER_DEPLOYMENT_NAME: 'travelconnect.booking' })).toThrow(/WORKER_DEPLOYMENT_NAME: must be letters/);
    expect(() => development({ WORKER_BUILD_ID: 'build:1' })).toThrow(/WORKER_BUILD_ID: must be a build id/);
  });

  it("refuses the development sandbox's settings in production, one line naming each, and leaves them to dev/config.ts elsewhere", () => {
    for (const name of SANDBOX_SETTINGS) {
      expect(() => loadConfig(productionEnv({ [name]: '1' })), name).toThrow(new RegExp(`^Invalid configuration: ${name}: a setting of the development sandbox, refused in production$`));
    }
    // Outside production they are not production's to read: no sandbox section, and no refusal.
    const config = development({ SANDBOX_LATENCY_MS: '700' });
    expect(config).not.toHaveProperty('sandbox');
  });

  it('allows plain values and files in development, but not both for one secret', () => {
    expect(development({ STRIPE_SECRET_KEY: 'sk_test_x' }).stripe.secretKey).toBe('sk_test_x');
    const env = productionEnv();
    expect(development({ STRIPE_SECRET_KEY_FILE: env.STRIPE_SECRET_KEY_FILE }).stripe.secretKey).toBe('sk_live_not_a_real_key_0123456789');
    expect(() => development({ STRIPE_SECRET_KEY: 'a', STRIPE_SECRET_KEY_FILE: env.STRIPE_SECRET_KEY_FILE })).toThrow(/not both/);
  });
});
