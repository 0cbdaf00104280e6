import { createRoute, z } from '@hono/zod-openapi';
import { BOOKING_STATUSES } from '../../domain/booking-status.js';
import { bookingPatchSchema, createBookingSchema, idempotencyKeySchema } from '../../domain/booking.schemas.js';
import { moneySchema } from '../../domain/money.js';
import { pageQuery } from '../booking-cursor.js';
import type { MyBookingsService } from '../my-bookings.service.js';
import { createRouter, problems } from '../openapi.js';
import { idPathParam, resourceIdOf } from '../path-id.js';
import { ApiError } from '../problem.js';
import type { BookingRecord } from '../booking-records.js';
import type { BookingService } from '../bookings.service.js';

function idempotencyKey(header: string | undefined): string {
  if (!header) throw new ApiError('IDEMPOTENCY_KEY_MISSING');
  const parsed = idempotencyKeySchema.safeParse(header);
  if (!parsed.success) {
    throw new ApiError('VALIDATION_FAILED', { errors: [{ path: 'Idempotency-Key', message: 'must be a UUID' }] });
  }
  return parsed.data.toLowerCase();
}

function summary(booking: Pick<BookingRecord, 'id' | 'status'>) {
  return {
    bookingId: booking.id,
    status: booking.status,
    links: { self: `/api/v1/bookings/${booking.id}` },
  };
}

const idempotencyHeader = z.object({
  'idempotency-key': z.string().optional().openapi({ description: 'Required: a UUID chosen by the client' }),
});
const csrfHeader = z.object({ 'x-csrf-token': z.string().optional().openapi({ description: 'Required with cookie authentication' }) });

// A string in the handlers' types (rows hold text); the document still lists every value.
const bookingStatus = z.string().openapi('BookingStatus', {
  enum: [...BOOKING_STATUSES],
  description:
    'PENDING until the saga takes the booking up (STARTED: re-pricing), then HELD, AWAITING_PAYMENT (3-D Secure), and one of ' +
    'CONFIRMED, FAILED, EXPIRED, CANCELLED (then REFUNDED); NEEDS_ATTENTION while an operator is needed',
});
const summarySchema = z
  .object({ bookingId: z.string(), status: bookingStatus, links: z.object({ self: z.string() }) })
  .openapi('BookingSummary');
const viewSchema = z
  .object({
    bookingId: z.string(),
    status: bookingStatus,
    price: moneySchema,
    items: z.array(
      z.object({
        offerId: z.string(),
        provider: z.string(),
        kind: z.string(),
        price: moneySchema,
        state: z.string(),
        fareRule: z.string().openapi({ description: 'FLEX (all back on cancellation), STANDARD (half) or SAVER (nothing)' }),
        confirmationCode: z.string().nullable(),
      }),
    ),
    passengers: z.array(
      z.object({
        givenName: z.string(),
        familyName: z.string(),
        passportNumber: z.string().openapi({ description: 'Masked: all but the last 3 characters are *' }),
        passportCountry: z.string(),
        nationality: z.string(),
      }),
    ),
    contact: z.object({ email: z.string() }),
    notes: z.string().nullable(),
    payment: z
      .object({
        status: z.string(),
        amount: moneySchema,
        refunded: moneySchema,
        nextAction: z
          .object({ type: z.literal('use_stripe_sdk'), clientSecret: z.string() })
          .optional()
          .openapi({ description: 'Only while 3-D Secure is pending: run it with Stripe.js (handleNextAction) and this client secret' }),
      })
      .nullable(),
    cancellation: z
      .object({ refund: moneySchema })
      .optional()
      .openapi({ description: 'A confirmed booking: what cancelling it now refunds, per its fare rules' }),
    failure: z.object({ code: z.string(), message: z.string() }).optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Booking');

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

const createBooking = createRoute({
  method: 'post',
  path: '/',
  summary: 'Book offers: starts the booking saga',
  request: {
    headers: idempotencyHeader,
    body: { content: { 'application/json': { schema: createBookingSchema } }, required: true },
  },
  responses: {
    202: json(summarySchema, 'Accepted: the saga has started'),
    200: json(summarySchema, 'The booking this Idempotency-Key already made'),
    ...problems(
      'VALIDATION_FAILED', 'IDEMPOTENCY_KEY_MISSING', 'UNAUTHENTICATED', 'SESSION_EXPIRED', 'CSRF_FAILED', 'IDEMPOTENCY_KEY_IN_USE',
      'IDEMPOTENCY_KEY_REUSED', 'RATE_LIMITED', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'SERVICE_UNAVAILABLE',
    ),
  },
});

const getBooking = createRoute({
  method: 'get',
  path: '/{id}',
  summary: "One of the caller's bookings",
  request: { params: idPathParam },
  responses: { 200: json(viewSchema, 'The booking'), ...problems('UNAUTHENTICATED', 'SESSION_EXPIRED', 'NOT_FOUND') },
});

const listBookings = createRoute({
  method: 'get',
  path: '/',
  summary: "The caller's bookings, newest first",
  request: { query: z.strictObject({ status: z.enum(BOOKING_STATUSES).optional(), ...pageQuery }) },
  responses: {
    200: json(
      z
        .object({
          items: z.array(
            z.object({
              bookingId: z.string(),
              status: bookingStatus,
              price: moneySchema,
              createdAt: z.string(),
              items: z.array(z.object({ offerId: z.string(), provider: z.string(), kind: z.string(), price: moneySchema, state: z.string() })),
            }),
          ),
          nextCursor: z.string().nullable(),
        })
        .openapi('BookingPage'),
      'A page of bookings; `nextCursor` is null on the last',
    ),
    ...problems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'SESSION_EXPIRED'),
  },
});

const patchBooking = createRoute({
  method: 'patch',
  path: '/{id}',
  summary: 'Change the notes or the contact of one of the caller\'s bookings',
  request: {
    params: idPathParam,
    headers: csrfHeader,
    body: { content: { 'application/json': { schema: bookingPatchSchema } }, required: true },
  },
  responses: {
    200: json(viewSchema, 'The booking as changed'),
    ...problems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'SESSION_EXPIRED', 'CSRF_FAILED', 'NOT_FOUND', 'RATE_LIMITED', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'SERVICE_UNAVAILABLE'),
  },
});

const cancelBooking = createRoute({
  method: 'post',
  path: '/{id}/cancel',
  summary: 'Cancel: compensation before confirmation, refund per fare rule after it',
  request: { headers: idempotencyHeader, params: idPathParam },
  responses: {
    202: json(summarySchema, 'Cancellation under way or done'),
    ...problems('IDEMPOTENCY_KEY_MISSING', 'UNAUTHENTICATED', 'SESSION_EXPIRED', 'CSRF_FAILED', 'NOT_FOUND', 'BOOKING_NOT_CANCELLABLE', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE'),
  },
});

export function bookingRoutes(service: BookingService, mine: MyBookingsService) {
  return createRouter()
    .openapi(listBookings, async (c) => c.json(await mine.list(c.get('userId'), c.req.valid('query')), 200))
    .openapi(createBooking, async (c) => {
      const key = idempotencyKey(c.req.header('idempotency-key'));
      const { booking, created } = await service.create(c.get('userId'), key, c.req.valid('json'));
      return created ? c.json(summary(booking), 202) : c.json(summary(booking), 200);
    })
    .openapi(getBooking, async (c) => {
      return c.json(await mine.view(c.get('userId'), resourceIdOf(c.req.valid('param').id)), 200);
    })
    .openapi(patchBooking, async (c) => {
      const caller = { ip: c.get('clientIp') ?? null, userAgent: c.req.header('user-agent')?.slice(0, 200) ?? null };
      return c.json(await mine.update(c.get('userId'), resourceIdOf(c.req.valid('param').id), c.req.valid('json'), caller), 200);
    })
    .openapi(cancelBooking, async (c) => {
      const key = idempotencyKey(c.req.header('idempotency-key'));
      const booking = await service.cancel(c.get('userId'), resourceIdOf(c.req.valid('param').id), key);
      return c.json(summary(booking), 202);
    });
}
