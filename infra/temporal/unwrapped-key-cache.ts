import { createHash } from 'node:crypto';

/** The id of a wrapped data key: derived from its bytes, so a payload cannot claim another key's id. */
export const wrappedKeyId = (wrapped: Uint8Array) => createHash('sha256').update(wrapped).digest('hex').slice(0, 32);

/**
 * A least-recently-used cache of unwrapped data keys, keyed by `wrappedKeyId`. An unwrap in
 * flight is shared by every caller that needs the same key; a failed one is forgotten at once,
 * so the next caller asks KMS again, unless KMS refused the key (`isRefusal`). Past `maxEntries`
 * the least recently used key goes.
 */
export function createUnwrappedKeyCache(options: {
  unwrap: (wrapped: Uint8Array) => Promise<Buffer>;
  maxEntries: number;
  /**
   * A failure that asking again would repeat (KMS refusing the blob): remembered for `refusalTtlMs`,
   * so a caller resending a bogus key does not cost a KMS call each time. Others are forgotten at once.
   */
  isRefusal?: (error: unknown) => boolean;
  refusalTtlMs?: number;
  now?: () => number;
}) {
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  const entries = new Map<string, Promise<Buffer>>();
  const refused = new Map<string, { error: unknown; until: number }>();
  const now = options.now ?? Date.now;
  return {
    get(wrapped: Uint8Array): Promise<Buffer> {
      const id = wrappedKeyId(wrapped);
      const refusal = refused.get(id);
      if (refusal && refusal.until > now()) return Promise.reject(refusal.error);
      refused.delete(id);
      const cached = entries.get(id);
      if (cached) {
        entries.delete(id);
        entries.set(id, cached);
        return cached;
      }
      const key = options.unwrap(wrapped);
      key.catch((error: unknown) => {
        if (entries.get(id) === key) entries.delete(id);
        if (options.isRefusal?.(error)) {
          // Bounded like the keys: the oldest refusal goes first.
          if (refused.size >= options.maxEntries) refused.delete(refused.keys().next().value as string);
          refused.set(id, { error, until: now() + (options.refusalTtlMs ?? 60_000) });
        }
      });
      if (entries.size >= options.maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(id, key);
      return key;
    },
    get size() {
      return entries.size;
    },
  };
}
