import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Shaped like PEM, which is all start-up checks: a process given it refuses or fails at its first handshake. */
export const DUMMY_PEM = '-----BEGIN CERTIFICATE-----\nbm90IGEgcmVhbCBjZXJ0aWZpY2F0ZQ==\n-----END CERTIFICATE-----\n';

/**
 * An environment that production accepts: every secret mounted as a file, none a development default,
 * the browser origins its own (production refuses the development ones), TLS to every store and to
 * Temporal (mTLS), AWS KMS and Stripe themselves. The developer's own plain settings are blanked.
 */
export function productionEnv(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'tc-secrets-'));
  const mount = (name: string, value: string) => {
    const path = join(dir, name);
    writeFileSync(path, `${value}\n`, { mode: 0o600 });
    return path;
  };
  return {
    NODE_ENV: 'production',
    CORS_ORIGINS: 'https://app.travelconnect.example',
    // The Web UI, the one origin the codec server answers.
    TEMPORAL_UI_URL: 'https://temporal-ui.travelconnect.example',
    // Public, so a plain variable (not a secret file).
    STRIPE_PUBLISHABLE_KEY: 'pk_live_not_a_real_key_0123456789',
    DATABASE_URL: '',
    DATABASE_URL_FILE: mount('database-url', 'postgresql://app:s3cret-db-pass@db.internal:5432/travelconnect?sslmode=verify-full'),
    DATABASE_SSL_CA_FILE: mount('db-ca.pem', DUMMY_PEM),
    REDIS_URL: '',
    REDIS_URL_FILE: mount('redis-url', 'rediss://app:s3cret-redis-pass@cache.internal:6380/0'),
    REDIS_TLS_CA_FILE: mount('redis-ca.pem', DUMMY_PEM),
    TEMPORAL_ADDRESS: 'temporal.internal:7233',
    TEMPORAL_TLS_CA_FILE: mount('temporal-ca.pem', DUMMY_PEM),
    TEMPORAL_TLS_CERT_FILE: mount('temporal-client.pem', DUMMY_PEM),
    TEMPORAL_TLS_KEY_FILE: mount('temporal-client.key', DUMMY_PEM.replaceAll('CERTIFICATE', 'PRIVATE KEY')),
    KMS_ENDPOINT: '',
    STRIPE_API_URL: '',
    TC_ALLOW_LOCAL_FAKES: '',
    SANDBOX_PROVIDER_URL: 'https://flights.supplier.example',
    HOTEL_PROVIDER_URL: 'https://hotels.supplier.example',
    CAPTCHA_VERIFY_URL: 'https://captcha.example/siteverify',
    PUBLIC_APP_URL: 'https://app.travelconnect.example',
    STRIPE_SECRET_KEY_FILE: mount('stripe-key', 'sk_live_not_a_real_key_0123456789'),
    STRIPE_WEBHOOK_SECRET_FILE: mount('webhook-secret', 'whsec_production_0123456789'),
    AUDIT_HMAC_KEY_FILE: mount('audit-key', 'a-production-audit-key-of-at-least-32-chars'),
    JWT_SIGNING_KEYS_FILE: mount('jwt-keys', `prod-1:${Buffer.alloc(32, 7).toString('base64url')}`),
    AUTH_HMAC_KEY_FILE: mount('auth-key', 'a-production-auth-key-of-at-least-32-chars'),
    CAPTCHA_SECRET_FILE: mount('captcha-secret', 'production-captcha-secret'),
    SMTP_URL_FILE: mount('smtp-url', 'smtps://mailer:s3cret@smtp.internal:465'),
    METRICS_TOKEN_FILE: mount('metrics-token', 'a-production-metrics-token-0123456789'),
    ...overrides,
  };
}
