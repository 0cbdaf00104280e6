import { Redis } from 'ioredis';
import type { Config } from './config.js';

/** A Redis client that fails fast while Redis is down (no offline queue) and reconnects by itself. */
export function createRedis(redis: Config['redis'], onError: (error: Error) => void = () => {}): Redis {
  const client = new Redis(redis.url, {
    keyPrefix: redis.keyPrefix,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  // Outages surface through failing commands and /readyz; unheard, ioredis prints every reconnect attempt.
  client.on('error', onError);
  return client;
}
export type { Redis };

/** Resolves once the client is connected, so the first requests of a process do not meet "not ready". */
export async function redisReady(client: Redis, timeoutMs = 5_000): Promise<boolean> {
  if (client.status === 'ready') return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    function onReady() {
      clearTimeout(timer);
      resolve(true);
    }
    client.once('ready', onReady);
  });
}
