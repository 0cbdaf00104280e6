import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { BOOKING_STATUSES } from '../../domain/booking-status.js';
import { idempotencyKeySchema } from '../../domain/booking.schemas.js';
import { roleChangeSchema } from '../../domain/identity/auth.schemas.js';
import { freeText } from '../../domain/free-text.js';
import { moneySchema } from '../../domain/money.js';
import type { AdminService } from '../admin.service.js';
import { pageQuery } from '../booking-cursor.js';
import type { AppEnv } from '../env.js';
import { requireRole } from '../middleware/authenticate.js';
import { createRouter, problems } from '../openapi.js';
import { idPathParam, resourceIdOf } from '../path-id.js';
import { ApiError } from '../problem.js';
import type { UserService } from '../users.service.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

const page = pageQuery;
// Printable ASCII only: what the audit log's own columns hold.
const auditField = z.string().min(1).max(200).regex(/^[\x20-\x7e]+$/, 'must be printable ASCII');

const adminBookingSchema = z
  .object({
    bookingId: z.string(),
    userId: z.string(),
    status: z.string(),
    price: moneySchema,
    providers: z.array(z.string()),
    createdAt: z.string(),
    updatedAt: z.string(),
    failure: z.object({ code: z.string() }).optional(),
  })
  .openapi('AdminBooking');
const auditRowSchema = z
  .object({
    seq: z.string(),
    occurredAt: z.string(),
    actor: z.string(),
    action: z.string(),
    resource: z.string(),
    result: z.string(),
    ip: z.string().nullable(),
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  })
  .openapi('AuditRow');
const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

const listBookings = createRoute({
  method: 'get',
  path: '/bookings',
  summary: 'Admin, support: every booking, newest first, without personal data (audited)',
  request: { query: z.strictObject({ status: z.enum(BOOKING_STATUSES).optional(), ...page }) },
  responses: {
    200: json(pageOf(adminBookingSchema), 'A page of bookings; `nextCursor` is null on the last'),
    ...problems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'NOT_FOUND', 'RATE_LIMITED'),
  },
});

const searchAudit = createRoute({
  method: 'get',
  path: '/audit',
  summary: 'Admin, support: the audit log, newest first (audited)',
  request: {
    query: z.strictObject({
      actor: auditField.optional(),
      action: auditField.optional(),
      resource: auditField.optional(),
      from: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Inclusive' }),
      to: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Exclusive' }),
      ...page,
    }),
  },
  responses: {
    200: json(pageOf(auditRowSchema), 'A page of audit rows; `nextCursor` is null on the last'),
    ...problems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'NOT_FOUND', 'RATE_LIMITED'),
  },
});

const changeRole = createRoute({
  method: 'post',
  path: '/users/{id}/role',
  summary: 'Admin: change a user\'s role (audited; the user\'s sessions end)',
  request: {
    params: idPathParam,
    body: { content: { 'application/json': { schema: roleChangeSchema } }, required: true },
  },
  responses: {
    200: json(z.object({ id: z.string(), role: z.string(), previousRole: z.string() }), 'The new role'),
    ...problems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'CSRF_FAILED', 'NOT_FOUND', 'RATE_LIMITED'),
  },
});

const refundBooking = createRoute({
  method: 'post',
  path: '/bookings/{id}/refund',
  summary: 'Admin: refund a captured booking, in full or in part (audited; support and others get 404)',
  description:
    'Answers 202 as soon as the refund workflow `refund-<booking>-<Idempotency-Key>` is started, before Stripe is called; ' +
    'the same key answers the same refund (its status once finished), never a second one. The payment, then the booking, ' +
    'show REFUNDED once everything captured is refunded; a partial refund leaves the booking as it was.',
  request: {
    headers: z.object({ 'idempotency-key': z.string().optional().openapi({ description: 'Required: a UUID chosen by the client' }) }),
    params: idPathParam,
    body: {
      content: {
        'application/json': {
          schema: z.strictObject({
            amount: moneySchema.optional().openapi({ description: 'Absent: everything captured and not yet refunded' }),
            reason: freeText({ min: 1, max: 500 }).openapi({ description: 'Why; only its length is audited' }),
          }),
        },
      },
      required: true,
    },
  },
  responses: {
    202: json(
      z.object({ refundId: z.string(), status: z.enum(['ACCEPTED', 'REFUNDED', 'PARTIALLY_REFUNDED']) }),
      'The refund is under way (or, for a key already used, how it ended)',
    ),
    ...problems(
      'VALIDATION_FAILED', 'IDEMPOTENCY_KEY_MISSING', 'UNAUTHENTICATED', 'CSRF_FAILED', 'NOT_FOUND',
      'BOOKING_NOT_REFUNDABLE', 'REFUND_EXCEEDS_CAPTURE', 'IDEMPOTENCY_KEY_REUSED', 'RATE_LIMITED',
    ),
  },
});

function refundKey(header: string | undefined): string {
  if (!header) throw new ApiError('IDEMPOTENCY_KEY_MISSING');
  const parsed = idempotencyKeySchema.safeParse(header);
  if (!parsed.success) throw new ApiError('VALIDATION_FAILED', { errors: [{ path: 'Idempotency-Key', message: 'must be a UUID' }] });
  return parsed.data.toLowerCase();
}

const callerOf = (c: Context<AppEnv>) => ({
  userId: c.get('userId'),
  ip: c.get('clientIp'),
  userAgent: (c.req.header('user-agent') ?? '').slice(0, 200),
});

/** docs/api.md "Operators": admin and support read, only admin changes; to anyone else none of it exists (404). */
export function adminRoutes(deps: { users: UserService; admin: AdminService }) {
  const router = createRouter();
  // Before any validation: a traveller must not learn which admin inputs are well formed.
  router.use('*', requireRole('admin', 'support'));
  router.use('/users/*', requireRole('admin'));
  router.use('/bookings/:id/refund', requireRole('admin'));
  return router
    .openapi(listBookings, async (c) => c.json(await deps.admin.listBookings(callerOf(c), c.req.valid('query')), 200))
    .openapi(searchAudit, async (c) => c.json(await deps.admin.searchAudit(callerOf(c), c.req.valid('query')), 200))
    .openapi(changeRole, async (c) => {
      const id = resourceIdOf(c.req.valid('param').id);
      const { userId, ...ctx } = callerOf(c);
      return c.json(await deps.users.changeRole(userId, id.toLowerCase(), c.req.valid('json').role, ctx), 200);
    })
    .openapi(refundBooking, async (c) => {
      const key = refundKey(c.req.header('idempotency-key'));
      const id = resourceIdOf(c.req.valid('param').id);
      return c.json(await deps.admin.refundBooking(callerOf(c), id, c.req.valid('json'), key), 202);
    });
}
