import { Hono } from 'hono';
import type { Client } from '@temporalio/client';
import type { Orm } from '../../infra/db/orm.js';
import type { Metrics } from '../../infra/metrics.js';
import type { Redis } from '../../infra/redis.js';
import type { AppEnv } from '../env.js';
import { ApiError } from '../problem.js';

const CHECK_TIMEOUT_MS = 1_500;

async function within(check: () => Promise<unknown>): Promise<'ok' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

/** Liveness, readiness (every dependency, named when down) and Prometheus metrics. */
export function healthRoutes(deps: { orm: Orm; redis: Redis; temporal: Client; metrics: Metrics }) {
  return new Hono<AppEnv>()
    .get('/healthz', (c) => c.json({ status: 'ok' }))
    .get('/readyz', async (c) => {
      const [postgres, redis, temporal] = await Promise.all([
        within(() => deps.orm.em.getConnection().execute('select 1')),
        within(() => deps.redis.ping()),
        within(() => deps.temporal.workflowService.getSystemInfo({})),
      ]);
      const checks = { postgres, redis, temporal };
      const down = Object.entries(checks).filter(([, state]) => state === 'down').map(([name]) => name);
      if (down.length > 0) throw new ApiError('SERVICE_UNAVAILABLE', `Not ready: ${down.join(', ')} unreachable.`, undefined, { checks });
      return c.json({ status: 'ready', checks });
    })
    .get('/metrics', async (c) => {
      c.header('Content-Type', deps.metrics.registry.contentType);
      return c.body(await deps.metrics.registry.metrics());
    });
}
