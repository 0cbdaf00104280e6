import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', '{api,activities,domain,infra,workflows,workers}/**/*.test.ts'],
    // The production profile starts a whole deployment of its own: `npm run test:production`.
    exclude: ['**/node_modules/**', '**/.git/**', 'test/production/**'],
    globalSetup: ['test/support/global-setup.ts'],
    // Integration tests share one Temporal server and Postgres on a 2-core machine.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
