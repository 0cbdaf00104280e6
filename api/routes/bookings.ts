import { createRoute, z } from '@hono/zod-openapi';
import { createBookingSchema, idempotencyKeySchema } from '../../domain/booking.schemas.js';
import { fromMinor, moneySchema, type Currency } from '../../domain/money.js';
import type { IBooking } from '../../infra/db/entities.js';
import { createRouter, problems } from '../openapi.js';
import { ApiError } from '../problem.js';
import type { BookingService } from '../bookings.service.js';

function idempotencyKey(header: string | undefined): string {
  if (!header) throw new ApiError('IDEMPOTENCY_KEY_MISSING');
  const parsed = idempotencyKeySchema.safeParse(header);
  if (!parsed.success) {
    throw new ApiError('VALIDATION_FAILED', undefined, [{ path: 'Idempotency-Key', message: 'must be a UUID' }]);
  }
  return parsed.data.toLowerCase();
}

function bookingIdOf(id: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new ApiError('NOT_FOUND');
  return id.toLowerCase();
}

function summary(booking: IBooking) {
  return {
    bookingId: booking.id,
    status: booking.status,
    links: { self: `/api/v1/bookings/${booking.id}` },
  };
}

/** The view of api.md: passports masked, no ciphertext, failure only when there is one. */
function view(booking: IBooking) {
  const currency = booking.currency as Currency;
  const payment = booking.payments.getItems().at(-1);
  return {
    bookingId: booking.id,
    status: booking.status,
    price: fromMinor(booking.totalMinor, currency),
    items: booking.items.getItems().map((item) => ({
      offerId: item.offerId,
      provider: item.provider,
      kind: item.kind,
      price: fromMinor(item.priceMinor, item.currency as Currency),
      state: item.state,
      confirmationCode: item.confirmationCode ?? null,
    })),
    passengers: booking.passengers.map((p) => ({
      givenName: p.givenName,
      familyName: p.familyName,
      passportNumber: p.passportHint,
      passportCountry: p.passportCountry,
      nationality: p.nationality,
    })),
    payment: payment ? { status: payment.status, amount: fromMinor(payment.amountMinor, payment.currency as Currency) } : null,
    ...(booking.failureCode ? { failure: { code: booking.failureCode, message: booking.failureMessage ?? '' } } : {}),
    createdAt: booking.createdAt.toISOString(),
    updatedAt: booking.updatedAt.toISOString(),
  };
}

const idempotencyHeader = z.object({
  'idempotency-key': z.string().optional().openapi({ description: 'Required: a UUID chosen by the client' }),
});
const bookingIdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: '6f1c…' }) });

const summarySchema = z
  .object({ bookingId: z.string(), status: z.string(), links: z.object({ self: z.string() }) })
  .openapi('BookingSummary');
const viewSchema = z
  .object({
    bookingId: z.string(),
    status: z.string(),
    price: moneySchema,
    items: z.array(
      z.object({
        offerId: z.string(),
        provider: z.string(),
        kind: z.string(),
        price: moneySchema,
        state: z.string(),
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
    payment: z.object({ status: z.string(), amount: moneySchema }).nullable(),
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
    ...problems('VALIDATION_FAILED', 'IDEMPOTENCY_KEY_MISSING', 'UNAUTHENTICATED', 'IDEMPOTENCY_KEY_REUSED', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'),
  },
});

const getBooking = createRoute({
  method: 'get',
  path: '/{id}',
  summary: "One of the caller's bookings",
  request: { params: bookingIdParam },
  responses: { 200: json(viewSchema, 'The booking'), ...problems('UNAUTHENTICATED', 'NOT_FOUND') },
});

const cancelBooking = createRoute({
  method: 'post',
  path: '/{id}/cancel',
  summary: 'Cancel: compensation before confirmation, refund per fare rule after it',
  request: { headers: idempotencyHeader, params: bookingIdParam },
  responses: {
    202: json(summarySchema, 'Cancellation under way or done'),
    ...problems('IDEMPOTENCY_KEY_MISSING', 'UNAUTHENTICATED', 'NOT_FOUND', 'BOOKING_NOT_CANCELLABLE'),
  },
});

export function bookingRoutes(service: BookingService) {
  return createRouter()
    .openapi(createBooking, async (c) => {
      const key = idempotencyKey(c.req.header('idempotency-key'));
      const { booking, created } = await service.create(c.get('userId'), key, c.req.valid('json'));
      return created ? c.json(summary(booking), 202) : c.json(summary(booking), 200);
    })
    .openapi(getBooking, async (c) => {
      return c.json(view(await service.findOwn(c.get('userId'), bookingIdOf(c.req.valid('param').id))), 200);
    })
    .openapi(cancelBooking, async (c) => {
      const key = idempotencyKey(c.req.header('idempotency-key'));
      const booking = await service.cancel(c.get('userId'), bookingIdOf(c.req.valid('param').id), key);
      return c.json(summary(booking), 202);
    });
}
