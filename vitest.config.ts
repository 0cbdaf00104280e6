import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', '{api,activities,domain,infra,workflows,workers}/**/*.test.ts'],
    // The production profile starts a whole deployment of its own (`npm run test:production`); the
    // tests that start whole processes or kill services run in `npm run test:processes`.
    exclude: [
      '**/node_modules/**', '**/.git/**', 'test/production/**',
      'test/integration/fail-closed-startup.test.ts', 'test/integration/resilience.test.ts', 'test/e2e/up.test.ts', 'test/chaos/**',
    ],
    globalSetup: ['test/support/global-setup.ts'],
    // Integration tests share one Temporal server and Postgres on a 2-core machine.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
