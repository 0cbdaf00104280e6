import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
// A CommonJS module: Node's ESM loader sees only its default export.
import proto from '@temporalio/proto';
import type { KeyService } from '../crypto/field-cipher.js';
import { createUnwrappedKeyCache, wrappedKeyId } from './unwrapped-key-cache.js';

const { Payload: PayloadMessage } = proto.temporal.api.common.v1;
export const ENCRYPTED_ENCODING = 'binary/encrypted';
const CONTEXT = { purpose: 'temporal-payloads' };
const utf8 = (text: string) => new TextEncoder().encode(text);
// A process meets one key per writer process (API, workers, tools) since the last rotation: a few
// dozen at most. The bound keeps a caller of the codec server from filling memory with keys.
const MAX_CACHED_KEYS = 256;

/**
 * Encrypts every workflow and activity payload with AES-256-GCM under a data key that KMS
 * wraps. The wrapped key travels in the payload's metadata, so any process that may call
 * KMS (worker, client, codec server, replay) can decrypt; the Temporal server and its
 * database only ever see ciphertext.
 */
export async function createEncryptionCodec(keys: KeyService): Promise<PayloadCodec> {
  const fresh = await keys.generateDataKey(CONTEXT);
  const wrapped = Buffer.from(fresh.wrapped);
  const keyId = wrappedKeyId(wrapped);
  const ownKey = Buffer.from(fresh.plaintext);
  // Keyed by what the wrapped key's bytes hash to, never by the id a payload claims: a payload
  // cannot make the codec ask KMS again for a key it has, nor pass off one key under another's id.
  const unwrapped = createUnwrappedKeyCache({
    unwrap: async (wrappedKey) => Buffer.from(await keys.decryptDataKey(wrappedKey, CONTEXT)),
    maxEntries: MAX_CACHED_KEYS,
  });
  const keyFor = async (wrappedKey: Uint8Array) => (wrapped.equals(wrappedKey) ? ownKey : unwrapped.get(wrappedKey));

  return {
    async encode(payloads: Payload[]): Promise<Payload[]> {
      return payloads.map((payload) => {
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', ownKey, iv);
        const body = Buffer.concat([cipher.update(PayloadMessage.encode(payload).finish()), cipher.final(), cipher.getAuthTag()]);
        return {
          metadata: {
            encoding: utf8(ENCRYPTED_ENCODING),
            'encryption-key-id': utf8(keyId),
            'encryption-wrapped-key': wrapped,
          },
          data: Buffer.concat([iv, body]),
        };
      });
    },

    async decode(payloads: Payload[]): Promise<Payload[]> {
      return Promise.all(
        payloads.map(async (payload) => {
          const metadata = payload.metadata ?? {};
          // Payloads written before encryption (or by another codec) pass through untouched.
          if (!metadata.encoding || Buffer.from(metadata.encoding).toString() !== ENCRYPTED_ENCODING) return payload;
          // `encryption-key-id` is informational: the key is found by the wrapped key itself.
          const key = await keyFor(metadata['encryption-wrapped-key'] ?? new Uint8Array());
          const raw = Buffer.from(payload.data ?? []);
          const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
          decipher.setAuthTag(raw.subarray(raw.length - 16));
          const plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
          return PayloadMessage.decode(plain);
        }),
      );
    },
  };
}
