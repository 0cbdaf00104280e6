import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// `npm run test:chaos`: the chaos suite alone, with a full-size batch unless CHAOS_BOOKINGS says otherwise.
export default defineConfig({
  test: {
    ...base.test,
    include: ['test/chaos/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/.git/**'],
    env: { CHAOS_BOOKINGS: process.env.CHAOS_BOOKINGS ?? '1000' },
  },
});
