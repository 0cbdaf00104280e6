import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * An environment that production accepts: every secret mounted as a file, none a development default,
 * and the browser origins its own (production refuses the development ones).
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
    DATABASE_URL_FILE: mount('database-url', 'postgresql://app:s3cret-db-pass@db.internal:5432/travelconnect'),
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
