import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DATA_KEY_DESTROYED } from '../../activities/booking.ports.js';

/** Wraps and unwraps data keys; KMS in every environment (local-kms in development). */
export interface KeyService {
  generateDataKey(context: Record<string, string>): Promise<{ plaintext: Uint8Array; wrapped: Uint8Array }>;
  decryptDataKey(wrapped: Uint8Array, context: Record<string, string>): Promise<Uint8Array>;
}

/** Where each user's wrapped data key lives (the users table). */
export interface DataKeyStore {
  load(userId: string): Promise<string | null>;
  /** Stores the key unless one exists already; returns the key that won, or null when the account may have none (erased). */
  saveIfAbsent(userId: string, wrapped: string): Promise<string | null>;
}

export interface FieldCipherOptions {
  keys: KeyService;
  store: DataKeyStore;
  cacheMaxAgeMs?: number;
  cacheMaxEntries?: number;
  /** Uses of one cached plaintext key before KMS is asked again (bounds what a leaked cache entry covers). */
  cacheMaxUses?: number;
  now?: () => number;
}

/** The user has no data key (never made, or destroyed at erasure): nothing of theirs decrypts, now or later. */
export class DataKeyDestroyedError extends Error {
  readonly code = DATA_KEY_DESTROYED;
  constructor() {
    super('no data key for this user');
    this.name = 'DataKeyDestroyedError';
  }
}

const VERSION = 'v1';
const PURPOSE = 'pii';

/** The KMS encryption context of a user's data key: binds it to the user and its purpose. */
export const dataKeyContext = (userId: string): Record<string, string> => ({ userId, purpose: PURPOSE });

/**
 * AES-256-GCM field encryption under a per-user data key wrapped by KMS
 * (encryption context = user id), with a small cache of unwrapped keys.
 * The user id is also the GCM associated data, so a ciphertext moved to
 * another user's row does not decrypt.
 */
export function createFieldCipher(options: FieldCipherOptions) {
  const maxAge = options.cacheMaxAgeMs ?? 5 * 60_000;
  const maxEntries = options.cacheMaxEntries ?? 10_000;
  const maxUses = options.cacheMaxUses ?? 10_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { key: Buffer; at: number; uses: number }>();
  const context = dataKeyContext;

  function remember(userId: string, key: Buffer): Buffer {
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
    cache.set(userId, { key, at: now(), uses: 0 });
    return key;
  }

  const loading = new Map<string, Promise<Buffer>>();

  // Concurrent fields of one request share a single KMS round trip.
  function dataKey(userId: string, create: boolean): Promise<Buffer> {
    const cached = cache.get(userId);
    if (cached && now() - cached.at < maxAge && cached.uses < maxUses) {
      cached.uses += 1;
      return Promise.resolve(cached.key);
    }
    // Spent or stale: dropped, not scrubbed, since a concurrent caller may still hold this Buffer.
    if (cached) cache.delete(userId);
    let pending = loading.get(userId);
    if (!pending) {
      pending = loadDataKey(userId, create).finally(() => loading.delete(userId));
      loading.set(userId, pending);
    }
    return pending;
  }

  async function loadDataKey(userId: string, create: boolean): Promise<Buffer> {
    const stored = await options.store.load(userId);
    if (stored) {
      return remember(userId, Buffer.from(await options.keys.decryptDataKey(Buffer.from(stored, 'base64'), context(userId))));
    }
    // Decrypting never makes a key: without one (never made, or destroyed at erasure) nothing decrypts.
    if (!create) throw new DataKeyDestroyedError();
    const fresh = await options.keys.generateDataKey(context(userId));
    const wrapped = Buffer.from(fresh.wrapped).toString('base64');
    const winner = await options.store.saveIfAbsent(userId, wrapped);
    if (winner === null) throw new DataKeyDestroyedError();
    if (winner === wrapped) return remember(userId, Buffer.from(fresh.plaintext));
    // Another request created the user's key first: use theirs.
    return remember(userId, Buffer.from(await options.keys.decryptDataKey(Buffer.from(winner, 'base64'), context(userId))));
  }

  return {
    async encrypt(userId: string, plaintext: string): Promise<string> {
      const key = await dataKey(userId, true);
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(`${VERSION}:${userId}`));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${VERSION}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },

    async decrypt(userId: string, ciphertext: string): Promise<string> {
      const [version, iv, body] = ciphertext.split('.');
      if (version !== VERSION || !iv || !body) throw new Error('unrecognised ciphertext format');
      const key = await dataKey(userId, false);
      const raw = Buffer.from(body, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(`${VERSION}:${userId}`));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      return Buffer.concat([decipher.update(raw.subarray(0, raw.length - 16)), decipher.final()]).toString('utf8');
    },

    forget(userId: string): void {
      cache.delete(userId);
    },
  };
}

export type FieldCipher = ReturnType<typeof createFieldCipher>;

/** Masks all but the last `visible` characters, as the API shows passports and phones. */
export function mask(value: string, visible: number): string {
  return '*'.repeat(Math.max(0, value.length - visible)) + value.slice(-visible);
}
