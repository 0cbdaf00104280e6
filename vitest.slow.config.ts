import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';
import { SLOW_TESTS } from './vitest.slow-tests.js';

// `npm run test:slow`: the suites listed in vitest.slow-tests.ts, which `npm test` leaves out.

export default defineConfig({
  test: {
    ...base.test,
    include: SLOW_TESTS,
    exclude: ['**/node_modules/**', '**/.git/**'],
  },
});
