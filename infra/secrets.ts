import { readFileSync } from 'node:fs';

/** The settings that are secrets: never logged, and in production never plain environment values. */
export const SECRET_VARIABLES = [
  'DATABASE_URL', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'AUDIT_HMAC_KEY',
  'JWT_SIGNING_KEYS', 'AUTH_HMAC_KEY', 'CAPTCHA_SECRET', 'SMTP_URL',
] as const;
type SecretVariable = (typeof SECRET_VARIABLES)[number];

/** The development defaults; production refuses to start with any of them. */
export const DEVELOPMENT_SECRETS: Readonly<Record<SecretVariable, string>> = {
  DATABASE_URL: 'postgresql://travelconnect:travelconnect@127.0.0.1:5432/travelconnect',
  STRIPE_SECRET_KEY: 'sk_test_localstripe',
  STRIPE_WEBHOOK_SECRET: 'whsec_development_only',
  AUDIT_HMAC_KEY: 'development-only-audit-hmac-key-0000',
  // `kid:secret` pairs, the first signs; secrets are base64url of at least 32 bytes.
  JWT_SIGNING_KEYS: 'dev-2026:ZGV2ZWxvcG1lbnQtb25seS1qd3Qtc2lnbmluZy1rZXktMDAwMA',
  AUTH_HMAC_KEY: 'development-only-auth-hmac-key-00000000',
  CAPTCHA_SECRET: 'development-only-captcha-secret',
  SMTP_URL: 'smtp://127.0.0.1:2525',
};

/**
 * Resolves `<NAME>_FILE` (a mounted secret: the file's content, trimmed) into `<NAME>`.
 * In production a secret must come from a file: a plain `<NAME>` is refused, and so is a
 * development default, so a forgotten mount stops start-up instead of running on a known key.
 * Returns the environment to parse and the problems found, one line per variable.
 */
export function resolveSecrets(
  env: NodeJS.ProcessEnv,
  /** Secrets opened from a KMS-sealed file (infra/sealed-secrets.ts); they count as mounted. */
  sealed: Readonly<Record<string, string>> = {},
): { env: NodeJS.ProcessEnv; problems: string[] } {
  const production = env.NODE_ENV === 'production';
  const resolved: NodeJS.ProcessEnv = { ...env };
  const problems: string[] = [];
  for (const name of SECRET_VARIABLES) {
    const file = env[`${name}_FILE`];
    if (sealed[name] !== undefined) {
      if (env[name] || file) problems.push(`${name}: set in the sealed secrets file and in the environment; keep one`);
      resolved[name] = sealed[name];
    } else if (file) {
      if (env[name]) problems.push(`${name}: set either ${name} or ${name}_FILE, not both`);
      try {
        resolved[name] = readFileSync(file, 'utf8').trim();
      } catch {
        problems.push(`${name}_FILE: cannot read the file it names`);
      }
    } else if (production && env[name]) {
      problems.push(`${name}: plain environment values are refused in production; mount it and set ${name}_FILE`);
    }
    const value = resolved[name] || undefined;
    if (production && (value === undefined || value === DEVELOPMENT_SECRETS[name])) {
      problems.push(`${name}: production needs its own secret (missing or the development default)`);
    }
  }
  return { env: resolved, problems };
}
