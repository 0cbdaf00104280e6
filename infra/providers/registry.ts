import type { Config } from '../config.js';
import type { ProviderClient } from '../../activities/booking.ports.js';
import { createStayBridgeProvider } from './hotels.adapter.js';
import { createFlightProvider } from './flights.adapter.js';

/** Every configured provider adapter, by the name offers carry. */
export function createProviders(providers: Config['providers']): ReadonlyMap<string, ProviderClient> {
  const all = [
    createFlightProvider({ baseUrl: providers.sandboxUrl, timeoutMs: providers.timeoutMs }),
    createStayBridgeProvider({ baseUrl: providers.hotelUrl, timeoutMs: providers.timeoutMs }),
  ];
  return new Map(all.map((provider) => [provider.name, provider]));
}
