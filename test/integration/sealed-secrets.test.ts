import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../infra/config.js';
import { openSealedSecrets, sealSecrets } from '../../infra/sealed-secrets.js';
import { DUMMY_PEM } from '../support/production-env.js';

// SECURITY.md §21: secrets from a KMS-sealed file (local-kms here), refused as plain variables in production.
const SECRETS = {
  DATABASE_URL: 'postgresql://app:sealed-db-pass@db.internal:5432/travelconnect?sslmode=verify-full',
  REDIS_URL: 'rediss://app:sealed-redis-pass@cache.internal:6380/0',
  STRIPE_SECRET_KEY: 'sk_live_sealed_0123456789',
  STRIPE_WEBHOOK_SECRET: 'whsec_sealed_0123456789',
  AUDIT_HMAC_KEY: 'a-sealed-audit-key-of-at-least-32-characters',
  JWT_SIGNING_KEYS: `sealed-1:${Buffer.alloc(32, 9).toString('base64url')},sealed-0:${Buffer.alloc(32, 8).toString('base64url')}`,
  AUTH_HMAC_KEY: 'a-sealed-auth-key-of-at-least-32-characters',
  CAPTCHA_SECRET: 'sealed-captcha-secret',
  SMTP_URL: 'smtps://mailer:sealed@smtp.internal:465',
  METRICS_TOKEN: 'a-sealed-metrics-token-0123456789',
};
const dir = mkdtempSync(join(tmpdir(), 'tc-sealed-'));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
};
// The file is sealed and opened by local-kms, which production lets in only by the test override.
const LOCAL_KMS = { KMS_ENDPOINT: loadConfig({ ...process.env, NODE_ENV: 'test' }).kms.endpoint, TC_ALLOW_LOCAL_FAKES: 'kms' };
// The settings production needs beside the secrets.
const PRODUCTION = {
  NODE_ENV: 'production',
  CORS_ORIGINS: 'https://app.travelconnect.example',
  TEMPORAL_UI_URL: 'https://temporal-ui.travelconnect.example',
  STRIPE_PUBLISHABLE_KEY: 'pk_live_sealed_0123456789',
  SANDBOX_PROVIDER_URL: 'https://flights.supplier.example',
  CAPTCHA_VERIFY_URL: 'https://captcha.example/siteverify',
  PUBLIC_APP_URL: 'https://app.travelconnect.example',
  DATABASE_SSL_CA_FILE: file('ca.pem', DUMMY_PEM),
  TEMPORAL_TLS: 'true',
  ...LOCAL_KMS,
};

describe('sealed secrets file', () => {
  it('opens with KMS into a production config; the file holds no secret in plaintext', async () => {
    const sealed = await sealSecrets(SECRETS);
    for (const value of Object.values(SECRETS)) expect(sealed).not.toContain(value);
    const env = { ...PRODUCTION, SECRETS_FILE: file('sealed.json', sealed) };
    const config = loadConfig(env, await openSealedSecrets(env));
    expect(config.isProduction).toBe(true);
    expect(config.database.url).toBe(SECRETS.DATABASE_URL);
    expect(config.redis.url).toBe(SECRETS.REDIS_URL);
    // The JWT key ring: the first key signs, the second still verifies (rotation without logging anyone out).
    expect(config.auth.signingKeys.map((k) => k.kid)).toEqual(['sealed-1', 'sealed-0']);
  });

  it('refuses a damaged file, a secret also set in plain, and a non-secret in the file, naming SECRETS_FILE or the variable', async () => {
    const sealed = JSON.parse(await sealSecrets(SECRETS)) as { ciphertext: string };
    const damaged = Buffer.from(sealed.ciphertext, 'base64');
    damaged[damaged.length - 5] = damaged[damaged.length - 5]! ^ 0xff;
    const env = { NODE_ENV: 'production', ...LOCAL_KMS, SECRETS_FILE: file('damaged.json', JSON.stringify({ version: 1, ciphertext: damaged.toString('base64') })) };
    await expect(openSealedSecrets(env)).rejects.toThrow(/SECRETS_FILE: KMS could not open it/);
    await expect(openSealedSecrets({ SECRETS_FILE: file('garbage.json', 'not json') })).rejects.toThrow(/SECRETS_FILE: cannot read/);
    await expect(sealSecrets({ PORT: '80' })).rejects.toThrow(/not secret settings: PORT/);

    const goodEnv = { ...PRODUCTION, SECRETS_FILE: file('good.json', await sealSecrets(SECRETS)) };
    const opened = await openSealedSecrets(goodEnv);
    expect(() => loadConfig({ ...goodEnv, STRIPE_SECRET_KEY: 'sk_live_plain' }, opened)).toThrow(/STRIPE_SECRET_KEY: set in the sealed secrets file and in the environment/);
    const error = (() => {
      try {
        loadConfig({ ...goodEnv, STRIPE_SECRET_KEY: 'sk_live_plain' }, opened);
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    for (const value of Object.values(SECRETS)) expect(error).not.toContain(value);
  });
});
