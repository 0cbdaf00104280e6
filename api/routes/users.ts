import { createRoute, z } from '@hono/zod-openapi';
import { accountDeletionSchema, profilePatchSchema } from '../../domain/identity/auth.schemas.js';
import { clearSessionCookies, readCookie } from '../auth-cookies.js';
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
  responses: { 200: ok, ...problems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'CSRF_FAILED', 'RATE_LIMITED') },
});

const deleteMe = createRoute({
  method: 'delete',
  path: '/me',
  summary: 'Delete the account: sessions end now; after the grace period the account is erased unless you sign in again',
  request: { body: { content: { 'application/json': { schema: accountDeletionSchema } }, required: true } },
  responses: {
    202: { description: 'Deletion scheduled', content: { 'application/json': { schema: z.object({ deletionScheduledFor: z.string() }) } } },
    ...problems('VALIDATION_FAILED', 'INVALID_CREDENTIALS', 'CAPTCHA_REQUIRED', 'ACCOUNT_LOCKED', 'RATE_LIMITED', 'UNAUTHENTICATED', 'CSRF_FAILED'),
  },
});
const exportMe = createRoute({
  method: 'get',
  path: '/me/export',
  summary: 'Everything held about the caller, decrypted (GDPR access and portability)',
  responses: {
    200: { description: 'The export', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } },
    ...problems('UNAUTHENTICATED', 'SESSION_EXPIRED', 'RATE_LIMITED'),
  },
});

/** docs/api.md "Users"; mounted behind authentication. */
export function userRoutes(users: UserService) {
  return createRouter()
    .openapi(getMe, async (c) => c.json(await users.me(c.get('userId')), 200))
    .openapi(patchMe, async (c) => c.json(await users.update(c.get('userId'), c.req.valid('json')), 200))
    .openapi(deleteMe, async (c) => {
      const ctx = { ip: c.get('clientIp'), userAgent: (c.req.header('user-agent') ?? '').slice(0, 200), deviceCookie: readCookie.device(c) };
      const scheduled = await users.requestDeletion(c.get('userId'), c.req.valid('json').password, ctx);
      clearSessionCookies(c);
      return c.json(scheduled, 202);
    })
    .openapi(exportMe, async (c) => {
      const ctx = { ip: c.get('clientIp'), userAgent: (c.req.header('user-agent') ?? '').slice(0, 200) };
      return c.json(await users.exportData(c.get('userId'), ctx), 200);
    });
}
