import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:processes`: the tests that start whole processes or kill services — the real API and
 * worker refusing bad configurations, `npm run up` itself, worker kills, and the chaos suite's short
 * run (40 bookings). They take minutes, so `npm test` stays under its budget without them; `.ci/run`
 * runs them right after it.
 */
export const PROCESS_TESTS = [
  'test/integration/fail-closed-startup.test.ts',
  'test/integration/resilience.test.ts',
  'test/e2e/up.test.ts',
  'test/chaos/chaos.test.ts',
];

export default defineConfig({
  test: {
    ...base.test,
    include: PROCESS_TESTS,
    exclude: ['**/node_modules/**', '**/.git/**'],
  },
});
