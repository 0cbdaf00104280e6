import { readFileSync } from 'node:fs';

/** The settings that are secrets: never logged, and in production never plain environment values. */
export const SECRET_VARIABLES = [
  'DATABASE_URL', 'MIGRATION_DATABASE_URL', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'AUDIT_HMAC_KEY',
  'JWT_SIGNING_KEYS', 'AUTH_HMAC_KEY', 'CAPTCHA_SECRET', 'SMTP_URL', 'METRICS_TOKEN', 'REDIS_URL', 'TEMPORAL_API_KEY',
] as const;
type SecretVariable = (typeof SECRET_VARIABLES)[number];
/** Secrets production may go without (a client certificate can replace the Temporal Cloud API key); given, still mounted. */
const OPTIONAL_SECRETS = ['TEMPORAL_API_KEY'] as const satisfies readonly SecretVariable[];
/** The secrets development has a default for: every one production requires. */
type DevelopmentSecret = Exclude<SecretVariable, (typeof OPTIONAL_SECRETS)[number]>;

/**
 * What a process connects to Postgres as. `application` (API, worker, admin tools): DATABASE_URL,
 * the least-privileged travelconnect_app. `migration` (`npm run migrate`): MIGRATION_DATABASE_URL,
 * the owner of the schema, and none of the application's secrets. In production each gets only
 * its own: the application refuses the owner's URL, so a compromised API cannot change the schema
 * or rewrite the audit log with it.
 */
export type SecretScope = 'application' | 'migration';

/** The development defaults; production refuses to start with any of them. */
export const DEVELOPMENT_SECRETS: Readonly<Record<DevelopmentSecret, string>> = {
  // The application's role (migration 0006); the migration step gives it this password outside production.
  DATABASE_URL: 'postgresql://travelconnect_app:development-only-app-password@127.0.0.1:5432/travelconnect',
  // The owner of the database and its schema (dev/services.ts creates it locally).
  MIGRATION_DATABASE_URL: 'postgresql://travelconnect:travelconnect@127.0.0.1:5432/travelconnect',
  STRIPE_SECRET_KEY: 'sk_test_localstripe',
  STRIPE_WEBHOOK_SECRET: 'whsec_development_only',
  AUDIT_HMAC_KEY: 'development-only-audit-hmac-key-0000',
  // `kid:secret` pairs, the first signs; secrets are base64url of at least 32 bytes.
  JWT_SIGNING_KEYS: 'dev-2026:ZGV2ZWxvcG1lbnQtb25seS1qd3Qtc2lnbmluZy1rZXktMDAwMA',
  AUTH_HMAC_KEY: 'development-only-auth-hmac-key-00000000',
  CAPTCHA_SECRET: 'development-only-captcha-secret',
  SMTP_URL: 'smtp://127.0.0.1:2525',
  // What Prometheus presents as `Authorization: Bearer` to scrape the API's /metrics.
  METRICS_TOKEN: 'development-only-metrics-token',
  // Its AUTH user and password ride in the URL (rediss://user:password@host:port/0), hence a secret.
  REDIS_URL: 'redis://127.0.0.1:6379/0',
};

/** Secrets that are URLs: their password, not the whole string, is what a development value hides in. */
const URL_SECRETS: ReadonlySet<string> = new Set(['DATABASE_URL', 'MIGRATION_DATABASE_URL', 'REDIS_URL', 'SMTP_URL']);

function urlPassword(value: string): string | undefined {
  try {
    return decodeURIComponent(new URL(value).password) || undefined;
  } catch {
    return undefined; // not a URL: the config's own validation says so
  }
}

/**
 * The pieces development's public defaults are made of: whole values (each long and distinctive, so
 * finding one inside a longer value means it was copied), the JWT ring's kids and secrets, and the
 * URLs' passwords (short ones like "travelconnect" also name the database, so they count only as a password).
 */
const DEVELOPMENT_PIECES = (() => {
  const values = new Set<string>();
  const passwords = new Set<string>();
  const kids = new Set<string>();
  for (const [name, value] of Object.entries(DEVELOPMENT_SECRETS)) {
    if (name === 'JWT_SIGNING_KEYS') {
      for (const [kid = '', secret = ''] of value.split(',').map((pair) => pair.split(':'))) {
        kids.add(kid);
        values.add(secret);
      }
    } else if (URL_SECRETS.has(name)) {
      const password = urlPassword(value);
      if (password) passwords.add(password);
    } else {
      values.add(value);
    }
  }
  return { values: [...values], passwords: [...values, ...passwords], kids };
})();

/** Whether a secret carries a development value: a key ring entry, a URL's password, a default inside a longer value. */
function carriesDevelopmentValue(name: string, value: string): boolean {
  const { values, passwords, kids } = DEVELOPMENT_PIECES;
  if (passwords.includes(value) || values.some((piece) => value.includes(piece))) return true;
  if (name === 'JWT_SIGNING_KEYS' && value.split(',').some((pair) => kids.has(pair.split(':')[0] ?? ''))) return true;
  const password = URL_SECRETS.has(name) ? urlPassword(value) : undefined;
  return password !== undefined && passwords.includes(password);
}

/**
 * Resolves `<NAME>_FILE` (a mounted secret: the file's content, trimmed) into `<NAME>`.
 * In production a secret must come from a file: a plain `<NAME>` is refused, and so is a
 * development default, so a forgotten mount stops start-up instead of running on a known key.
 * In production the scope's secrets are required and the owner's URL is refused outside its scope.
 * Returns the environment to parse and the problems found, one line per variable.
 */
export function resolveSecrets(
  env: NodeJS.ProcessEnv,
  /** Secrets opened from a KMS-sealed file (infra/sealed-secrets.ts); they count as mounted. */
  sealed: Readonly<Record<string, string>> = {},
  scope: SecretScope = 'application',
): { env: NodeJS.ProcessEnv; problems: string[] } {
  const production = env.NODE_ENV === 'production';
  const resolved: NodeJS.ProcessEnv = { ...env };
  const problems: string[] = [];
  for (const name of SECRET_VARIABLES) {
    const file = env[`${name}_FILE`];
    const ownerUrl = name === 'MIGRATION_DATABASE_URL';
    if (production && ownerUrl && scope === 'application') {
      if (sealed[name] !== undefined || env[name] || file) {
        problems.push(`${name}: the owner's URL is refused by the API and worker in production; only the migration job (npm run migrate) gets it`);
      }
      continue;
    }
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
    const optional = (OPTIONAL_SECRETS as readonly string[]).includes(name);
    const development = optional ? undefined : DEVELOPMENT_SECRETS[name as DevelopmentSecret];
    // The migration job needs the owner's URL and nothing else; what it is given is still checked.
    const required = (scope === 'application' && !optional) || ownerUrl;
    if (production && (required || value !== undefined) && (value === undefined || value === development)) {
      problems.push(`${name}: production needs its own secret (missing or the development default)`);
    } else if (production && value !== undefined && carriesDevelopmentValue(name, value)) {
      problems.push(`${name}: production needs its own secret (it carries a public development value)`);
    }
  }
  return { env: resolved, problems };
}
