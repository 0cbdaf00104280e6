import { createRoute, z } from '@hono/zod-openapi';
import { profilePatchSchema } from '../../domain/identity/auth.schemas.js';
import { createRouter, problems } from '../openapi.js';
import type { UserService } from '../users.service.js';

const profileSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    phone: z.string().nullable().openapi({ description: 'Masked but for the last 4 digits' }),
    role: z.enum(['user', 'support', 'admin']),
    emailVerified: z.boolean(),
    createdAt: z.string(),
  })
  .openapi('Profile');
const ok = { description: 'The profile', content: { 'application/json': { schema: profileSchema } } };

const getMe = createRoute({ method: 'get', path: '/me', summary: "The caller's profile", responses: { 200: ok, ...problems('UNAUTHENTICATED', 'SESSION_EXPIRED') } });
const patchMe = createRoute({
  method: 'patch',
  path: '/me',
  summary: 'Change name or phone (E.164)',
  request: { body: { content: { 'application/json': { schema: profilePatchSchema } }, required: true } },
  responses: { 200: ok, ...problems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'CSRF_FAILED') },
});

/** api.md "Users"; mounted behind authentication. */
export function userRoutes(users: UserService) {
  return createRouter()
    .openapi(getMe, async (c) => c.json(await users.me(c.get('userId')), 200))
    .openapi(patchMe, async (c) => c.json(await users.update(c.get('userId'), c.req.valid('json')), 200));
}
