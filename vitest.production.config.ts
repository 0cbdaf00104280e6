import { defineConfig } from 'vitest/config';

// `npm run test:production`: the production profile alone (test/production), with no global setup:
// it starts every service it needs, on ports of its own, and never touches the shared ones.
export default defineConfig({
  test: {
    include: ['test/production/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
