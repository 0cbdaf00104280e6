import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { freeText } from '../../domain/free-text.js';
import { CASE_KINDS } from '../../domain/reconciliation.js';
import { pageQuery } from '../booking-cursor.js';
import type { CaseService } from '../cases.service.js';
import type { AppEnv } from '../env.js';
import { requireRole } from '../middleware/authenticate.js';
import { createRouter, problems } from '../openapi.js';
import { idPathParam } from '../path-id.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

const caseSchema = z
  .object({
    id: z.string(),
    bookingId: z.string(),
    kind: z.enum(CASE_KINDS),
    evidence: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).openapi({ description: 'What disagrees: ids, statuses, amounts; no personal data' }),
    openedAt: z.string(),
    lastSeenAt: z.string(),
    resolvedAt: z.string().nullable(),
    resolution: z.string().nullable(),
    resolvedBy: z.string().nullable().openapi({ description: '`user:<id>`, or `system:reconciler` for what it repaired or saw cleared' }),
  })
  .openapi('ReconciliationCase');

const listCases = createRoute({
  method: 'get',
  path: '/',
  summary: 'Admin, support: reconciliation cases, newest first (audited)',
  request: { query: z.strictObject({ status: z.enum(['open', 'resolved']).optional(), kind: z.enum(CASE_KINDS).optional(), ...pageQuery }) },
  responses: {
    200: json(z.object({ items: z.array(caseSchema), nextCursor: z.string().nullable() }), 'A page of cases; `nextCursor` is null on the last'),
    ...problems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'NOT_FOUND', 'RATE_LIMITED'),
  },
});

const resolveCase = createRoute({
  method: 'post',
  path: '/{id}/resolve',
  summary: 'Admin: resolve a case; for a saga NEEDS_ATTENTION, `undo` first tells the saga that stuck undo was done by hand (audited)',
  request: {
    params: idPathParam,
    body: {
      content: {
        'application/json': {
          schema: z.strictObject({
            resolution: freeText({ min: 1, max: 500 }),
            undo: z.string().regex(/^(void-payment|release-hold:[A-Za-z0-9:._-]{1,200})$/, 'must name an undo: void-payment or release-hold:<offerId>').optional(),
          }),
        },
      },
      required: true,
    },
  },
  responses: {
    200: json(caseSchema, 'The resolved case'),
    ...problems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'CSRF_FAILED', 'NOT_FOUND', 'CASE_NOT_RESOLVABLE', 'RATE_LIMITED'),
  },
});

const callerOf = (c: Context<AppEnv>) => ({
  userId: c.get('userId'),
  ip: c.get('clientIp'),
  userAgent: (c.req.header('user-agent') ?? '').slice(0, 200),
});

/** docs/api.md "Operators": support reads cases, only admin resolves; to anyone else none of it exists (404). */
export function adminCaseRoutes(deps: { cases: CaseService }) {
  const router = createRouter();
  router.use('*', requireRole('admin', 'support'));
  router.use('/:id/resolve', requireRole('admin'));
  return router
    .openapi(listCases, async (c) => c.json(await deps.cases.list(callerOf(c), c.req.valid('query')), 200))
    .openapi(resolveCase, async (c) => c.json(await deps.cases.resolve(callerOf(c), c.req.valid('param').id.toLowerCase(), c.req.valid('json')), 200));
}
