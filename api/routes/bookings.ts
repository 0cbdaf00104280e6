import { Hono } from 'hono';
import { createBookingSchema, idempotencyKeySchema } from '../../domain/booking.schemas.js';
import { fromMinor, type Currency } from '../../domain/money.js';
import type { IBooking } from '../../infra/db/entities.js';
import type { AppEnv } from '../env.js';
import { ApiError } from '../problem.js';
import { validate } from '../validation.js';
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
      confirmationCode: item.confirmationCode,
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

export function bookingRoutes(service: BookingService) {
  return new Hono<AppEnv>()
    .post('/', validate('json', createBookingSchema), async (c) => {
      const key = idempotencyKey(c.req.header('idempotency-key'));
      const { booking, created } = await service.create(c.get('userId'), key, c.req.valid('json'));
      return c.json(summary(booking), created ? 202 : 200);
    })
    .get('/:id', async (c) => {
      return c.json(view(await service.findOwn(c.get('userId'), bookingIdOf(c.req.param('id')))));
    })
    .post('/:id/cancel', async (c) => {
      const key = idempotencyKey(c.req.header('idempotency-key'));
      const booking = await service.cancel(c.get('userId'), bookingIdOf(c.req.param('id')), key);
      return c.json(summary(booking), 202);
    });
}
