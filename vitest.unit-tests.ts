/**
 * `npm run test:unit`: the tests that need no service (no Postgres, Redis, KMS, Stripe fake or shared
 * Temporal): pure logic and adapters beside their code, middleware and routes through app.request(),
 * the workflow tests on their own time-skipping test server, and the repository checks. Under 30 s on
 * a 2-core machine; `npm test` runs them too (vitest.config.ts includes every file here).
 */

/** Unit tests live beside the code they test. */
export const BESIDE_CODE_TESTS = ['{api,activities,domain,infra,workflows,workers,dev,deploy}/**/*.test.ts', 'web/src/**/*.test.ts'];

export const UNIT_TESTS = [
  ...BESIDE_CODE_TESTS,
  // The booking saga's branches on Temporal's time-skipping test server (dev/temporal-test-server).
  'test/workflows/**/*.test.ts',
  // The dependency rules and the documents comments cite: the repository itself, no service.
  'test/architecture/**/*.test.ts',
  'test/docs/**/*.test.ts',
];

/** Files that install Temporal's native runtime (one per process): test:unit runs them in processes, not threads. */
export const ON_TEMPORAL_RUNTIME = ['test/workflows/**/*.test.ts', 'infra/temporal/worker-metrics.test.ts'];

/** Beside the code but against the real Redis, or slow: `npm test` (or `npm run test:slow`) runs them, test:unit does not. */
export const NOT_UNIT_TESTS = [
  'infra/redis.test.ts',
  'infra/auth/login-guard.test.ts',
  'infra/rate-limit/sliding-window.test.ts',
  'api/middleware/rate-limit.test.ts',
  // Runs the supply-chain check as a process against a stub registry (tens of seconds).
  'deploy/supply-chain.test.ts',
];
