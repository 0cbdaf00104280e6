import type { ProviderClient } from '../activities/booking.ports.js';
import { canonicalJson } from '../domain/canonical-json.js';
import type { FlightSearch, Offer } from '../domain/booking.schemas.js';
import type { Logger } from '../infra/logger.js';
import type { Redis } from '../infra/redis.js';

export interface SearchAnswer {
  offers: Offer[];
  partial: boolean;
  failedProviders: string[];
}

/**
 * Fans a search out to every provider at once, each held to the deadline; late or failing
 * providers make the answer partial. Complete answers are cached briefly in Redis.
 */
export function createSearchService(deps: {
  providers: ReadonlyMap<string, ProviderClient>;
  redis: Redis;
  deadlineMs: number;
  cacheTtlSeconds: number;
}) {
  return {
    async flights(query: FlightSearch, log: Logger): Promise<SearchAnswer & { cached: boolean }> {
      const key = `search:flights:v1:${canonicalJson(query)}`;
      // The cache is an optimisation: with Redis down, search still answers.
      const hit = await deps.redis.get(key).catch(() => null);
      if (hit) return { ...(JSON.parse(hit) as SearchAnswer), cached: true };

      const deadline = AbortSignal.timeout(deps.deadlineMs);
      const names = [...deps.providers.keys()];
      const results = await Promise.allSettled(names.map((name) => deps.providers.get(name)!.searchFlights(query, deadline)));
      const failedProviders = names.filter((_, i) => results[i]!.status === 'rejected');
      for (const provider of failedProviders) log.warn({ provider }, 'provider search failed or missed the deadline');
      const answer: SearchAnswer = {
        offers: results.flatMap((r) => (r.status === 'fulfilled' ? r.value : [])),
        partial: failedProviders.length > 0,
        failedProviders,
      };
      // A partial answer is not kept: the next search asks the missing provider again.
      if (!answer.partial) await deps.redis.set(key, JSON.stringify(answer), 'EX', deps.cacheTtlSeconds).catch(() => undefined);
      return { ...answer, cached: false };
    },
  };
}
export type SearchService = ReturnType<typeof createSearchService>;
