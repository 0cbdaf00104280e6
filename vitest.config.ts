import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', '{api,activities,domain,infra,workflows,workers}/**/*.test.ts'],
    // The chaos suite runs with `npm run test:chaos` only, until its short version passes reliably
    // (its last run here found one booking whose saga status and Postgres row disagreed: issue 7).
    exclude: ['**/node_modules/**', '**/.git/**', 'test/chaos/**'],
    globalSetup: ['test/support/global-setup.ts'],
    // Integration tests share one Temporal server and Postgres on a 2-core machine.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
