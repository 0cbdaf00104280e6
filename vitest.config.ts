import { defineConfig } from 'vitest/config';
import { SLOW_TESTS } from './vitest.slow-tests.js';
import { BESIDE_CODE_TESTS } from './vitest.unit-tests.js';

export default defineConfig({
  test: {
    // Everything test:unit runs (vitest.unit-tests.ts) runs here too.
    include: ['test/**/*.test.ts', ...BESIDE_CODE_TESTS],
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
