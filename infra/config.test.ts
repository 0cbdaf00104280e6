import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, requireMigrationDatabase } from './config.js';
import { productionEnv } from '../test/support/production-env.js';

describe('config', () => {
  it('serves local development with defaults and freezes the result', () => {
    const config = loadConfig({});
    expect(config.api.port).toBe(3000);
    expect(config.temporal.address).toBe('127.0.0.1:7233');
    expect(Object.isFrozen(config.database)).toBe(true);
  });

  it('connects the application as travelconnect_app and migrates as the owner, by default', () => {
    const config = loadConfig({});
    expect(new URL(config.database.url).username).toBe('travelconnect_app');
    expect(new URL(config.database.url).password).toBeTruthy();
    expect(new URL(requireMigrationDatabase(config).url).username).toBe('travelconnect');
    expect(loadConfig({ MIGRATION_DATABASE_URL: 'postgres://owner:pw@db:5432/x' }).migrationDatabase?.url).toBe('postgres://owner:pw@db:5432/x');
    expect(() => loadConfig({ MIGRATION_DATABASE_URL: 'db:5432' })).toThrow(/MIGRATION_DATABASE_URL: must be a URL/);
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ TEMPORAL_ADDRESS: 'localhost' })).toThrow(/TEMPORAL_ADDRESS: must be host:port/);
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
  });

  it('keeps the owner\'s database URL out of the API and worker in production, and gives the migration job nothing else', () => {
    const env = productionEnv();
    expect(loadConfig(env).migrationDatabase).toBeUndefined();
    expect(() => requireMigrationDatabase(loadConfig(env))).toThrow(/MIGRATION_DATABASE_URL: required to migrate/);
    const owner = join(mkdtempSync(join(tmpdir(), 'tc-owner-')), 'owner-url');
    writeFileSync(owner, 'postgresql://travelconnect:0wner-pass@db.internal:5432/travelconnect\n', { mode: 0o600 });
    // However it is given, the application refuses it (and never echoes it).
    const refused = () => loadConfig({ ...env, MIGRATION_DATABASE_URL_FILE: owner });
    expect(refused).toThrow(/MIGRATION_DATABASE_URL: the owner's URL is refused by the API and worker in production/);
    expect(refused).not.toThrow(/0wner-pass/);
    expect(() => loadConfig(env, { MIGRATION_DATABASE_URL: 'postgresql://o:p@db/x' })).toThrow(/MIGRATION_DATABASE_URL: the owner's URL is refused/);

    // The migration job: the owner's URL, mounted, and no other secret required.
    const migration = loadConfig({ NODE_ENV: 'production', MIGRATION_DATABASE_URL_FILE: owner }, {}, 'migration');
    expect(requireMigrationDatabase(migration).url).toBe('postgresql://travelconnect:0wner-pass@db.internal:5432/travelconnect');
    expect(() => loadConfig({ NODE_ENV: 'production' }, {}, 'migration')).toThrow(/^Invalid configuration: MIGRATION_DATABASE_URL: production needs its own secret[^;]*$/);
    expect(() => loadConfig({ NODE_ENV: 'production', MIGRATION_DATABASE_URL: 'postgresql://o:p@db/x' }, {}, 'migration')).toThrow(
      /MIGRATION_DATABASE_URL: plain environment values are refused in production/,
    );
    // A secret it is given anyway is still held to production's rules.
    expect(() => loadConfig({ NODE_ENV: 'production', MIGRATION_DATABASE_URL_FILE: owner, STRIPE_SECRET_KEY: 'sk_live_x' }, {}, 'migration')).toThrow(
      /STRIPE_SECRET_KEY: plain environment values are refused/,
    );
  });

  it('allows plain values and files in development, but not both for one secret', () => {
    expect(loadConfig({ STRIPE_SECRET_KEY: 'sk_test_x' }).stripe.secretKey).toBe('sk_test_x');
    const env = productionEnv();
    expect(loadConfig({ STRIPE_SECRET_KEY_FILE: env.STRIPE_SECRET_KEY_FILE }).stripe.secretKey).toBe('sk_live_not_a_real_key_0123456789');
    expect(() => loadConfig({ STRIPE_SECRET_KEY: 'a', STRIPE_SECRET_KEY_FILE: env.STRIPE_SECRET_KEY_FILE })).toThrow(/not both/);
  });
});
