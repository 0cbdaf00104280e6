import type { ProviderClient } from '../activities/booking.ports.js';
import { canonicalJson } from '../domain/canonical-json.js';
import type { FlightSearch, HotelSearch, Offer, OfferKind } from '../domain/booking.schemas.js';
import type { Logger } from '../infra/logger.js';
import type { Redis } from '../infra/redis.js';

export interface SearchAnswer {
  offers: Offer[];
  partial: boolean;
  failedProviders: string[];
}

type Ask = (provider: ProviderClient, signal: AbortSignal) => Promise<Offer[]> | undefined;

/**
 * Fans a search out at once to every provider that sells the kind asked for, each held to the
 * deadline; late or failing providers make the answer partial. Complete answers are cached briefly in Redis.
 */
export function createSearchService(deps: {
  providers: ReadonlyMap<string, ProviderClient>;
  redis: Redis;
  deadlineMs: number;
  cacheTtlSeconds: number;
}) {
  // `query` is already parsed, so defaults are filled in and canonical JSON orders its keys: equal searches share a key.
  async function fanOut(kind: OfferKind, query: object, ask: Ask, log: Logger): Promise<SearchAnswer & { cached: boolean }> {
    const key = `search:${kind}s:v1:${canonicalJson(query)}`;
    // The cache is an optimisation: with Redis down, search still answers.
    const hit = await deps.redis.get(key).catch(() => null);
    if (hit) return { ...(JSON.parse(hit) as SearchAnswer), cached: true };

    const deadline = AbortSignal.timeout(deps.deadlineMs);
    const sellers = [...deps.providers.values()].filter((provider) => provider.kinds.includes(kind));
    const results = await Promise.allSettled(
      sellers.map((provider) => ask(provider, deadline) ?? Promise.reject(new Error(`${provider.name} cannot search ${kind}s`))),
    );
    const failedProviders = sellers.filter((_, i) => results[i]!.status === 'rejected').map((provider) => provider.name);
    for (const provider of failedProviders) log.warn({ provider, kind }, 'provider search failed or missed the deadline');
    const answer: SearchAnswer = {
      offers: results.flatMap((r) => (r.status === 'fulfilled' ? r.value : [])),
      partial: failedProviders.length > 0,
      failedProviders,
    };
    // A partial answer is not kept: the next search asks the missing provider again.
    if (!answer.partial) await deps.redis.set(key, JSON.stringify(answer), 'EX', deps.cacheTtlSeconds).catch(() => undefined);
    return { ...answer, cached: false };
  }

  return {
    flights: (query: FlightSearch, log: Logger) => fanOut('flight', query, (p, signal) => p.searchFlights?.(query, signal), log),
    hotels: (query: HotelSearch, log: Logger) => fanOut('hotel', query, (p, signal) => p.searchHotels?.(query, signal), log),
  };
}
export type SearchService = ReturnType<typeof createSearchService>;
