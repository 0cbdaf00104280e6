import type { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { Metrics } from '../../infra/metrics.js';
import type { Redis } from '../../infra/redis.js';
import { onError } from '../middleware/errors.js';
import { createRouter } from '../openapi.js';
import { healthRoutes } from './health.js';

/** The three dependencies /readyz asks, each counting how often it was asked; `down` makes Redis fail. */
function countingDeps() {
  const asked = { postgres: 0, redis: 0, temporal: 0 };
  const state = { redisDown: false };
  const deps = {
    database: { ping: async () => void (asked.postgres += 1) },
    redis: {
      ping: async () => {
        asked.redis += 1;
        if (state.redisDown) throw new Error('connection refused');
        return 'PONG';
      },
    } as unknown as Redis,
    temporal: { workflowService: { getSystemInfo: async () => void (asked.temporal += 1) } } as unknown as Client,
    metrics: {} as Metrics,
    metricsToken: 'm'.repeat(32),
  };
  const app = createRouter();
  app.onError(onError);
  app.route('/', healthRoutes(deps));
  return { asked, state, app };
}

describe('GET /readyz', () => {
  it('answers a flood of probes with one round of checks a second', async () => {
    const { asked, app } = countingDeps();
    const answers = await Promise.all(Array.from({ length: 50 }, () => app.request('/readyz')));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect(asked).toEqual({ postgres: 1, redis: 1, temporal: 1 });
  });

  it('asks again once that second has passed, and names what is down', async () => {
    const { asked, state, app } = countingDeps();
    expect((await app.request('/readyz')).status).toBe(200);
    state.redisDown = true;
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const down = await app.request('/readyz');
    expect(down.status).toBe(503);
    expect(await down.text()).toContain('redis');
    expect(asked.redis).toBe(2);
  });
});
