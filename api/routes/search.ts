import { Hono } from 'hono';
import { flightSearchSchema } from '../../domain/booking.schemas.js';
import type { ProviderClient } from '../../activities/booking.ports.js';
import type { AppEnv } from '../env.js';
import { validate } from '../validation.js';

/** Flight search across the configured providers; a failing provider makes the answer partial. */
export function searchRoutes(providers: ReadonlyMap<string, ProviderClient>) {
  return new Hono<AppEnv>().get('/flights', validate('query', flightSearchSchema), async (c) => {
    const query = c.req.valid('query');
    const results = await Promise.allSettled([...providers.values()].map((p) => p.searchFlights(query)));
    const failedProviders = [...providers.keys()].filter((_, i) => results[i]!.status === 'rejected');
    for (const name of failedProviders) c.get('log').warn({ provider: name }, 'provider search failed');
    const offers = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    return c.json({ offers, partial: failedProviders.length > 0, failedProviders });
  });
}
