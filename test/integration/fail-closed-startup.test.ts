import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEVELOPMENT_SECRETS } from '../../infra/secrets.js';
import { productionProcessEnv, startExpectingRefusal, unreachableEnv } from '../support/refusal.js';

// security.md 33: nothing starts without an explicit NODE_ENV, and production refuses what only
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
});
