import { createRoute, z } from '@hono/zod-openapi';
import { roleChangeSchema } from '../../domain/identity/auth.schemas.js';
import { createRouter, problems } from '../openapi.js';
import { ApiError } from '../problem.js';
import type { UserService } from '../users.service.js';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';

const changeRole = createRoute({
  method: 'post',
  path: '/users/{id}/role',
  summary: 'Admin: change a user\'s role (audited; the user\'s sessions end)',
  request: {
    params: z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) }),
    body: { content: { 'application/json': { schema: roleChangeSchema } }, required: true },
  },
  responses: {
    200: {
      description: 'The new role',
      content: { 'application/json': { schema: z.object({ id: z.string(), role: z.string(), previousRole: z.string() }) } },
    },
    ...problems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'CSRF_FAILED', 'NOT_FOUND'),
  },
});

/** api.md "operators": hidden (404) from callers without the role. */
export function adminRoutes(deps: { users: UserService; adminOnly: MiddlewareHandler<AppEnv> }) {
  const router = createRouter();
  router.use('/users/*', deps.adminOnly);
  return router.openapi(changeRole, async (c) => {
    const { id } = c.req.valid('param');
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new ApiError('NOT_FOUND');
    const ctx = { ip: c.get('clientIp'), userAgent: (c.req.header('user-agent') ?? '').slice(0, 200) };
    return c.json(await deps.users.changeRole(c.get('userId'), id.toLowerCase(), c.req.valid('json').role, ctx), 200);
  });
}
