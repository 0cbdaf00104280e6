import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config.js';

/**
 * Every option the client connects with, from the WHATWG-parsed URL (host, port, ACL user and
 * password, database) and the settings: TLS for rediss:, verifying the server against
 * REDIS_TLS_CA_FILE or the system's CAs. ioredis is never handed the URL string: it would read its
 * query string into options ahead of these (`?tls` meant plaintext and AUTH in clear).
 */
export function redisOptions(redis: Config['redis']): RedisOptions {
  const url = new URL(redis.url);
  const tls = url.protocol === 'rediss:';
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 6379,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
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
  const client = new Redis(redisOptions(redis));
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
