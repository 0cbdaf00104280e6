import { createRoute, z } from '@hono/zod-openapi';
import { flightSearchSchema, hotelSearchSchema, OFFER_KINDS } from '../../domain/booking.schemas.js';
import { moneySchema } from '../../domain/money.js';
import { createRouter, problems } from '../openapi.js';
import type { SearchService } from '../search.service.js';

const offerSchema = z
  .object({
    offerId: z.string(),
    provider: z.string(),
    kind: z.enum(OFFER_KINDS),
    price: moneySchema,
    expiresAt: z.string(),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi('Offer');

const searchAnswer = {
  200: {
    description: 'Offers; `partial` when a provider failed or missed the deadline',
    content: {
      'application/json': {
        schema: z.object({ offers: z.array(offerSchema), partial: z.boolean(), failedProviders: z.array(z.string()) }),
      },
    },
  },
  // Open to anyone, but a caller who sends a token is judged by it: a lapsed or revoked one is a 401.
  ...problems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'SESSION_EXPIRED', 'RATE_LIMITED'),
};

const searchFlights = createRoute({
  method: 'get',
  path: '/flights',
  summary: 'Search flights across every provider',
  request: { query: flightSearchSchema },
  responses: searchAnswer,
});

const searchHotels = createRoute({
  method: 'get',
  path: '/hotels',
  summary: 'Search hotels across every provider that sells them',
  description: 'checkOut must be after checkIn, at most 30 nights; `guests` share one room.',
  request: { query: hotelSearchSchema },
  responses: searchAnswer,
});

/** Flight and hotel search across the configured providers; a failing provider makes the answer partial. */
export function searchRoutes(search: SearchService) {
  return createRouter()
    .openapi(searchFlights, async (c) => {
      const { cached, ...answer } = await search.flights(c.req.valid('query'), c.get('log'));
      c.header('X-Cache', cached ? 'HIT' : 'MISS');
      return c.json(answer, 200);
    })
    .openapi(searchHotels, async (c) => {
      const { cached, ...answer } = await search.hotels(c.req.valid('query'), c.get('log'));
      c.header('X-Cache', cached ? 'HIT' : 'MISS');
      return c.json(answer, 200);
    });
}
