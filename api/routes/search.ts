import { Hono } from 'hono';
import { flightSearchSchema } from '../../domain/booking.schemas.js';
import type { AppEnv } from '../env.js';
import { validate } from '../validation.js';
import type { SearchService } from '../search.service.js';

/** Flight search across the configured providers; a failing provider makes the answer partial. */
export function searchRoutes(search: SearchService) {
  return new Hono<AppEnv>().get('/flights', validate('query', flightSearchSchema), async (c) => {
    const { cached, ...answer } = await search.flights(c.req.valid('query'), c.get('log'));
    c.header('X-Cache', cached ? 'HIT' : 'MISS');
    return c.json(answer);
  });
}
