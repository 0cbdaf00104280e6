import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEVELOPMENT_SECRETS } from '../../infra/secrets.js';
import { productionProcessEnv, startExpectingRefusal, unreachableEnv } from '../support/refusal.js';

// SECURITY.md §33: nothing starts without an explicit NODE_ENV, and production refuses what only
// development may use. Each case starts the real process; a refusal is exit 78 with one line.
const ENTRY_POINTS = { api: 'api/server.ts', worker: 'workers/booking.worker.ts' } as const;

function expectRefusalNaming(entry: string, env: NodeJS.ProcessEnv, setting: string) {
  const refusal = startExpectingRefusal(entry, env);
  expect(refusal.status, refusal.stderr).toBe(78);
  expect(refusal.lines, refusal.stderr).toHaveLength(1);
  expect(refusal.lines[0]).toMatch(new RegExp(`^Invalid configuration: (.*; )?${setting}: `));
  return refusal.lines[0]!;
}

describe('start-up without an explicit NODE_ENV', () => {
  for (const [name, entry] of Object.entries(ENTRY_POINTS)) {
    it(`stops the ${name} with one line naming NODE_ENV`, () => {
      // Everything else it might reach is a closed port: a process that got past its configuration fails differently.
      const line = expectRefusalNaming(entry, unreachableEnv(), 'NODE_ENV');
      expect(line).toBe('Invalid configuration: NODE_ENV: required (development, test or production); nothing starts in an implicit mode');
    });
  }

  it('stops the API on an empty NODE_ENV too', () => {
    expectRefusalNaming(ENTRY_POINTS.api, unreachableEnv({ NODE_ENV: '' }), 'NODE_ENV');
  });
});

describe('start-up in production', () => {
  it('refuses the default (development) CORS origins, naming CORS_ORIGINS', () => {
    expectRefusalNaming(ENTRY_POINTS.api, productionProcessEnv({ CORS_ORIGINS: '' }), 'CORS_ORIGINS');
  });

  it('refuses plain-http and loopback browser origins, naming CORS_ORIGINS', () => {
    expectRefusalNaming(ENTRY_POINTS.api, productionProcessEnv({ CORS_ORIGINS: 'https://app.travelconnect.example,http://app.travelconnect.example' }), 'CORS_ORIGINS');
    expectRefusalNaming(ENTRY_POINTS.worker, productionProcessEnv({ CORS_ORIGINS: 'https://localhost:5173' }), 'CORS_ORIGINS');
  });

  it('behind a proxy, refuses an empty TRUSTED_PROXIES, naming it', () => {
    expectRefusalNaming(ENTRY_POINTS.api, productionProcessEnv({ BEHIND_PROXY: 'true', TRUSTED_PROXIES: '' }), 'TRUSTED_PROXIES');
  });

  it('refuses the development JWT key ring, naming JWT_SIGNING_KEYS and not echoing it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tc-dev-ring-'));
    writeFileSync(join(dir, 'jwt-keys'), DEVELOPMENT_SECRETS.JWT_SIGNING_KEYS, { mode: 0o600 });
    const line = expectRefusalNaming(ENTRY_POINTS.api, productionProcessEnv({ JWT_SIGNING_KEYS_FILE: join(dir, 'jwt-keys') }), 'JWT_SIGNING_KEYS');
    expect(line).toContain('JWT_SIGNING_KEYS: production needs its own secret');
    expect(line).not.toContain(DEVELOPMENT_SECRETS.JWT_SIGNING_KEYS.split(':')[1]);
  });

  it('runs the worker only as a Worker Deployment Version, naming WORKER_BUILD_ID when the image gave it none', () => {
    const line = expectRefusalNaming(ENTRY_POINTS.worker, productionProcessEnv(), 'WORKER_BUILD_ID');
    expect(line).toContain('WORKER_BUILD_ID: required in production');
  });
});

// SECURITY.md §33, issue 14: production connects to every store over verified TLS, to AWS KMS and to
// Stripe itself. The environment is production's own (test/support/production-env.ts) but for one setting.
// One process per refused setting, API or worker (each start costs seconds); every variant of each rule
// is covered against the configuration alone in infra/transport-policy.test.ts.
describe('start-up in production: connections', () => {
  const mounts = mkdtempSync(join(tmpdir(), 'tc-connections-'));
  const PASSWORD = 's3cret-in-the-url';
  function mount(name: string, value: string): string {
    writeFileSync(join(mounts, name), `${value}\n`, { mode: 0o600 });
    return join(mounts, name);
  }
  const noTemporalTls = { TEMPORAL_TLS_CA_FILE: '', TEMPORAL_TLS_CERT_FILE: '', TEMPORAL_TLS_KEY_FILE: '' };

  it('refuses plaintext Postgres (no sslmode=verify-full), naming DATABASE_URL and not echoing it', () => {
    const env = productionProcessEnv({ DATABASE_URL_FILE: mount('plain-db', `postgresql://app:${PASSWORD}@db.internal:5432/tc`) });
    const line = expectRefusalNaming(ENTRY_POINTS.api, env, 'DATABASE_URL');
    expect(line).toContain('DATABASE_URL: production needs sslmode=verify-full');
    expect(line).not.toContain(PASSWORD);
  });

  it('refuses plaintext Redis (redis:), naming REDIS_URL and not echoing it', () => {
    const line = expectRefusalNaming(ENTRY_POINTS.api, productionProcessEnv({
      REDIS_URL_FILE: mount('plain-redis', `redis://app:${PASSWORD}@cache.internal:6379/0`),
    }), 'REDIS_URL');
    expect(line).toContain('REDIS_URL: production needs rediss: (TLS)');
    expect(line).not.toContain(PASSWORD);
  });

  it('refuses Redis over TLS without an ACL user and password, naming REDIS_URL and not echoing it', () => {
    const line = expectRefusalNaming(ENTRY_POINTS.worker, productionProcessEnv({
      REDIS_URL_FILE: mount('anonymous-redis', 'rediss://cache.internal:6380/0'),
    }), 'REDIS_URL');
    expect(line).toContain('REDIS_URL: production needs an ACL user and its password');
  });

  it('refuses mail over smtp: without required TLS, naming SMTP_URL and not echoing it', () => {
    const line = expectRefusalNaming(ENTRY_POINTS.api, productionProcessEnv({
      SMTP_URL_FILE: mount('plain-smtp', `smtp://mailer:${PASSWORD}@smtp.internal:587`),
    }), 'SMTP_URL');
    expect(line).toContain('SMTP_URL: production needs verified TLS to the mail server');
    expect(line).not.toContain(PASSWORD);
  });

  it('refuses Temporal without TLS, naming TEMPORAL_TLS', () => {
    expect(expectRefusalNaming(ENTRY_POINTS.worker, productionProcessEnv(noTemporalTls), 'TEMPORAL_TLS')).toContain('production needs TLS to Temporal');
  });

  it('refuses local-kms (the development endpoint), naming KMS_ENDPOINT', () => {
    expectRefusalNaming(ENTRY_POINTS.api, productionProcessEnv({ KMS_ENDPOINT: 'http://127.0.0.1:4599' }), 'KMS_ENDPOINT');
  });

  it("refuses the Stripe fake's URL, naming STRIPE_API_URL", () => {
    expectRefusalNaming(ENTRY_POINTS.worker, productionProcessEnv({ STRIPE_API_URL: 'http://127.0.0.1:8420' }), 'STRIPE_API_URL');
  });

  it("refuses a Stripe.js that is not Stripe's own, naming STRIPE_JS_URL", () => {
    expectRefusalNaming(ENTRY_POINTS.api, productionProcessEnv({ STRIPE_JS_URL: 'http://127.0.0.1:8420/js.stripe.com/v3/' }), 'STRIPE_JS_URL');
  });

  it('with TC_ALLOW_LOCAL_FAKES, gets past its configuration on the named fakes and logs one WARN line each', () => {
    const fakes = { TC_ALLOW_LOCAL_FAKES: 'stripe,kms', STRIPE_API_URL: 'http://127.0.0.1:8420', KMS_ENDPOINT: 'http://127.0.0.1:4599' };
    // Postgres at a closed port: the process stops there, after its start-up warnings.
    const started = startExpectingRefusal(ENTRY_POINTS.api, productionProcessEnv({
      ...fakes,
      LOG_LEVEL: 'warn',
      DATABASE_URL_FILE: mount('closed-db', 'postgresql://app:pw@127.0.0.1:1/tc?sslmode=verify-full'),
    }));
    expect(started.status, started.stderr).not.toBe(78);
    const warnings = started.stdout.split('\n').filter((line) => line.includes('test override TC_ALLOW_LOCAL_FAKES'))
      .map((line) => (JSON.parse(line) as { level: number; msg: string }));
    expect(warnings).toEqual([
      expect.objectContaining({ level: 40, msg: 'production is using the local Stripe fake at http://127.0.0.1:8420: test override TC_ALLOW_LOCAL_FAKES' }),
      expect.objectContaining({ level: 40, msg: 'production is using the local KMS fake at http://127.0.0.1:4599: test override TC_ALLOW_LOCAL_FAKES' }),
    ]);
  });
});
