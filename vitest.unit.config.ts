import { defineConfig } from 'vitest/config';
import { NOT_UNIT_TESTS, ON_TEMPORAL_RUNTIME, UNIT_TESTS } from './vitest.unit-tests.js';

// `npm run test:unit`: the tests listed in vitest.unit-tests.ts, without the services' global setup.
// Worker threads start faster than processes (on 2 cores about half the run); the files that install
// Temporal's native runtime, one per process, get processes of their own.

const exclude = ['**/node_modules/**', '**/.git/**', ...NOT_UNIT_TESTS];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT_TESTS, exclude: [...exclude, ...ON_TEMPORAL_RUNTIME], pool: 'threads' } },
      { extends: true, test: { name: 'unit-temporal', include: ON_TEMPORAL_RUNTIME, exclude, pool: 'forks' } },
    ],
  },
});
