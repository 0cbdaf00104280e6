import { createRoute, z } from '@hono/zod-openapi';
import type { Client } from '@temporalio/client';
import type { Metrics } from '../../infra/metrics.js';
import type { Redis } from '../../infra/redis.js';
import { createRouter, problems } from '../openapi.js';
import { ApiError } from '../problem.js';
import { bearerToken } from '../middleware/bearer-token.js';

const CHECK_TIMEOUT_MS = 1_500;
/**
 * /readyz is public and each answer costs a query to Postgres, Redis and Temporal: one answer
 * serves every probe for this long (requests meanwhile share it), so a flood of probes costs the
 * dependencies one round a second.
 */
const READINESS_TTL_MS = 1_000;

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

const checksSchema = z.object({ postgres: z.enum(['ok', 'down']), redis: z.enum(['ok', 'down']), temporal: z.enum(['ok', 'down']) });

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'Liveness: the process answers (no dependency is checked)',
  responses: { 200: { description: 'Alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } } },
});
const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  summary: 'Readiness: Postgres, Redis and Temporal reachable',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: z.object({ status: z.literal('ready'), checks: checksSchema }) } } },
    ...problems('SERVICE_UNAVAILABLE'),
  },
});
const metrics = createRoute({
  method: 'get',
  path: '/metrics',
  summary: 'Prometheus metrics (Authorization: Bearer METRICS_TOKEN)',
  responses: {
    200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } },
    ...problems('UNAUTHENTICATED'),
  },
});

/** Liveness, readiness (every dependency, named when down) and Prometheus metrics (for the holder of the metrics token). */
/** What readiness asks of Postgres (infra/db/orm.ts, databasePing): one round trip. */
export interface DatabasePing {
  ping(): Promise<unknown>;
}

export function healthRoutes(deps: { database: DatabasePing; redis: Redis; temporal: Client; metrics: Metrics; metricsToken: string }) {
  const router = createRouter();
  type Checks = { postgres: 'ok' | 'down'; redis: 'ok' | 'down'; temporal: 'ok' | 'down' };
  let latest: { at: number; checks: Promise<Checks> } | undefined;
  const readiness = (): Promise<Checks> => {
    if (latest && Date.now() - latest.at < READINESS_TTL_MS) return latest.checks;
    const checks = Promise.all([
      within(() => deps.database.ping()),
      within(() => deps.redis.ping()),
      within(() => deps.temporal.workflowService.getSystemInfo({})),
    ]).then(([postgres, redis, temporal]) => ({ postgres, redis, temporal }));
    latest = { at: Date.now(), checks };
    return checks;
  };
  // On the public port: without the token a scrape is refused before any metric is collected.
  router.use('/metrics', bearerToken({ token: deps.metricsToken, realm: 'metrics' }));
  return router
    .openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200))
    .openapi(readyz, async (c) => {
      const checks = await readiness();
      const down = Object.entries(checks).filter(([, state]) => state === 'down').map(([name]) => name);
      if (down.length > 0) throw new ApiError('SERVICE_UNAVAILABLE', { detail: `Not ready: ${down.join(', ')} unreachable.`, extensions: { checks } });
      return c.json({ status: 'ready' as const, checks }, 200);
    })
    .openapi(metrics, async (c) => {
      c.header('Content-Type', deps.metrics.registry.contentType);
      return c.text(await deps.metrics.registry.metrics(), 200);
    });
}
