import { defineConfig } from 'vitest/config';
import { NOT_UNIT_TESTS, UNIT_TESTS } from './vitest.unit-tests.js';

// `npm run test:unit`: the tests listed in vitest.unit-tests.ts, without the services' global setup.

export default defineConfig({
  test: {
    include: UNIT_TESTS,
    exclude: ['**/node_modules/**', '**/.git/**', ...NOT_UNIT_TESTS],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
