import { defineConfig } from 'vitest/config';
import { SLOW_TESTS } from './vitest.slow-tests.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', '{api,activities,domain,infra,dev,deploy,workflows,workers}/**/*.test.ts', 'web/src/**/*.test.ts'],
    // The production profile starts a whole deployment of its own (`npm run test:production`); the
    // slowest suites run in `npm run test:slow` (vitest.slow.config.ts), which .ci/run runs too.
    exclude: ['**/node_modules/**', '**/.git/**', 'test/production/**', 'test/chaos/**', ...SLOW_TESTS],
    globalSetup: ['test/support/global-setup.ts'],
    // Integration tests share one Temporal server and Postgres on a 2-core machine.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
