import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config.js';

/**
 * Options beside the URL (which carries host, AUTH user and password, and the database): for a
 * rediss: URL, TLS that verifies the server against REDIS_TLS_CA_FILE, or the system's CAs without one.
 */
export function redisOptions(redis: Config['redis']): RedisOptions {
  const tls = new URL(redis.url).protocol === 'rediss:';
  return {
    keyPrefix: redis.keyPrefix,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    ...(tls ? { tls: { rejectUnauthorized: true, ...(redis.caFile ? { ca: readFileSync(redis.caFile, 'utf8') } : {}) } } : {}),
  };
}

/** A Redis client that fails fast while Redis is down (no offline queue) and reconnects by itself. */
export function createRedis(redis: Config['redis'], onError: (error: Error) => void = () => {}): Redis {
  const client = new Redis(redis.url, redisOptions(redis));
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
