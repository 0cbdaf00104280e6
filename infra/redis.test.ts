import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localPki } from '../dev/cluster/pki.js';
import { createRedis, redisReady } from './redis.js';

// What reaches the wire: ioredis reads a URL's query string into its options ahead of the options
// it is handed, so `rediss://…?tls` would connect in plaintext and send AUTH in clear.
describe('a Redis client on rediss:', () => {
  let listener: Server;
  let port: number;
  let caFile: string;
  const firstBytes: Buffer[] = [];

  beforeAll(async () => {
    caFile = (await localPki(join(mkdtempSync(join(tmpdir(), 'tc-redis-')), 'pki'))).caFile;
    // Plain TCP: records what the client says first, then hangs up.
    listener = createServer((socket) => {
      socket.once('data', (chunk: Buffer) => {
        firstBytes.push(chunk);
        socket.destroy();
      });
      socket.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

  async function firstWords(url: string): Promise<Buffer> {
    const before = firstBytes.length;
    const client = createRedis({ url, keyPrefix: 'tc:', caFile });
    const deadline = Date.now() + 5_000;
    while (firstBytes.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    client.disconnect();
    expect(firstBytes.length, url).toBeGreaterThan(before);
    return firstBytes[before]!;
  }

  it('opens with a TLS ClientHello whatever the query string says, never AUTH in clear', async () => {
    for (const query of ['?tls&keyPrefix=elsewhere:', '?tls=', '?tls=false', '']) {
      const sent = await firstWords(`rediss://tcapp:s3cret@127.0.0.1:${port}/0${query}`);
      expect(sent.toString('latin1').toLowerCase(), query).not.toContain('auth');
      expect(sent[0], query).toBe(0x16); // a TLS handshake record
    }
  });
});

describe('a Redis client against the real Redis', () => {
  it('takes host, port and database from the URL and the key prefix from the configuration', async () => {
    const prefix = `test:${randomBytes(6).toString('hex')}:`;
    const client = createRedis({ url: 'redis://127.0.0.1:6379/3', keyPrefix: prefix });
    const raw = createRedis({ url: 'redis://127.0.0.1:6379/3', keyPrefix: '' });
    try {
      // Both connected before either is used: neither queues a command while it connects.
      expect(await redisReady(client)).toBe(true);
      expect(await redisReady(raw)).toBe(true);
      await client.set('probe', 'here', 'EX', 30);
      expect(await raw.get(`${prefix}probe`)).toBe('here');
      expect(client.options).toMatchObject({ host: '127.0.0.1', port: 6379, db: 3 });
    } finally {
      await raw.del(`${prefix}probe`).catch(() => 0);
      client.disconnect();
      raw.disconnect();
    }
  });
});
