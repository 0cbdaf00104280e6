import type { Config } from '../config.js';
import type { ProviderClient } from '../../activities/booking.ports.js';
import { createSandboxProvider } from './sandbox.adapter.js';

/** Every configured provider adapter, by the name offers carry. */
export function createProviders(providers: Config['providers']): ReadonlyMap<string, ProviderClient> {
  const sandbox = createSandboxProvider({ baseUrl: providers.sandboxUrl, timeoutMs: providers.timeoutMs });
  return new Map([[sandbox.name, sandbox]]);
}
