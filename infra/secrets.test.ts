import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEVELOPMENT_SECRETS, resolveSecrets } from './secrets.js';
import { productionEnv } from '../test/support/production-env.js';

const dir = mkdtempSync(join(tmpdir(), 'tc-secrets-test-'));
/** Production's environment with one secret mounted as `value`; the problems start-up reports. */
function problemsWith(name: string, value: string): string[] {
  const path = join(dir, name);
  writeFileSync(path, value, { mode: 0o600 });
  return resolveSecrets(productionEnv({ [`${name}_FILE`]: path })).problems;
}

const productionJwtKey = `prod-1:${Buffer.alloc(32, 7).toString('base64url')}`;
const [devKid, devJwtSecret] = DEVELOPMENT_SECRETS.JWT_SIGNING_KEYS.split(':') as [string, string];

describe('production secrets', () => {
  it('accepts a production environment whose URLs merely name the database travelconnect', () => {
    expect(resolveSecrets(productionEnv()).problems).toEqual([]);
  });

  it('refuses the public development JWT key anywhere in a key ring, by kid or by secret', () => {
    for (const ring of [
      `${productionJwtKey},${DEVELOPMENT_SECRETS.JWT_SIGNING_KEYS}`,
      `${DEVELOPMENT_SECRETS.JWT_SIGNING_KEYS},${productionJwtKey}`,
      `${productionJwtKey},prod-0:${devJwtSecret}`,
      `${devKid}:${Buffer.alloc(32, 9).toString('base64url')}`,
    ]) {
      const problems = problemsWith('JWT_SIGNING_KEYS', ring);
      expect(problems, ring).toEqual([expect.stringMatching(/^JWT_SIGNING_KEYS: production needs its own secret/)]);
      expect(problems.join(), ring).not.toContain(devJwtSecret);
    }
  });

  it('refuses a development password inside a URL secret and a development value inside any secret', () => {
    const devAppPassword = new URL(DEVELOPMENT_SECRETS.DATABASE_URL).password;
    const devOwnerPassword = new URL(DEVELOPMENT_SECRETS.MIGRATION_DATABASE_URL).password;
    const cases: Array<[string, string]> = [
      ['DATABASE_URL', `postgresql://travelconnect_app:${devAppPassword}@db.internal:5432/travelconnect?sslmode=verify-full`],
      ['REDIS_URL', `rediss://app:${devOwnerPassword}@cache.internal:6380/0`],
      ['SMTP_URL', `smtps://mailer:${encodeURIComponent(DEVELOPMENT_SECRETS.CAPTCHA_SECRET)}@smtp.internal:465`],
      ['AUDIT_HMAC_KEY', `${DEVELOPMENT_SECRETS.AUDIT_HMAC_KEY}-and-more`],
    ];
    for (const [name, value] of cases) {
      const problems = problemsWith(name, value);
      expect(problems, name).toEqual([expect.stringMatching(new RegExp(`^${name}: production needs its own secret`))]);
      expect(problems.join(), name).not.toContain(value);
    }
  });
});
