import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
// A CommonJS module: Node's ESM loader sees only its default export.
import proto from '@temporalio/proto';
import type { KeyService } from '../crypto/field-cipher.js';
import { DataKeyRefusedError } from '../crypto/key-errors.js';
import { createUnwrappedKeyCache, wrappedKeyId } from './unwrapped-key-cache.js';

const { Payload: PayloadMessage } = proto.temporal.api.common.v1;
export const ENCRYPTED_ENCODING = 'binary/encrypted';
const CONTEXT = { purpose: 'temporal-payloads' };
const utf8 = (text: string) => new TextEncoder().encode(text);
// A process meets one key per writer process (API, workers, tools) since the last rotation: a few
// dozen at most. The bound keeps a caller of the codec server from filling memory with keys.
const MAX_CACHED_KEYS = 256;
const IV_BYTES = 12;
const TAG_BYTES = 16;
// A refused wrapped key is answered from memory this long: each retry would be another KMS call.
const REFUSAL_TTL_MS = 60_000;

/** Payload `index` cannot be decoded: the caller's input is at fault, asking again will not help. */
export class PayloadDecodeError extends Error {
  constructor(readonly index: number, readonly reason: string) {
    super(`payload ${index}: ${reason}`);
    this.name = 'PayloadDecodeError';
  }
}

/** KMS could not be asked (unreachable, throttled, failing): the payload may be fine. */
export class KeyServiceUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`the key service could not unwrap a data key: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'KeyServiceUnavailableError';
  }
}

/**
 * Encrypts every workflow and activity payload with AES-256-GCM under a data key that KMS
 * wraps. The wrapped key travels in the payload's metadata, so any process that may call
 * KMS (worker, client, codec server, replay) can decrypt; the Temporal server and its
 * database only ever see ciphertext.
 */
export async function createEncryptionCodec(
  keys: KeyService,
  options: {
    /**
     * Production: a payload that is not ours (plaintext, or another codec's) is refused, not passed
     * through. Anyone who can reach Temporal could otherwise hand a saga a signal or an input in the
     * clear that no key of ours ever sealed. Development passes them, so histories recorded before
     * encryption and the CLI's plain signals still read.
     */
    refusePlaintext?: boolean;
  } = {},
): Promise<PayloadCodec> {
  const fresh = await keys.generateDataKey(CONTEXT);
  const wrapped = Buffer.from(fresh.wrapped);
  const keyId = wrappedKeyId(wrapped);
  const ownKey = Buffer.from(fresh.plaintext);
  // Keyed by what the wrapped key's bytes hash to, never by the id a payload claims: a payload
  // cannot make the codec ask KMS again for a key it has, nor pass off one key under another's id.
  const unwrapped = createUnwrappedKeyCache({
    unwrap: async (wrappedKey) => Buffer.from(await keys.decryptDataKey(wrappedKey, CONTEXT)),
    maxEntries: MAX_CACHED_KEYS,
    isRefusal: (error) => error instanceof DataKeyRefusedError,
    refusalTtlMs: REFUSAL_TTL_MS,
  });
  const keyFor = async (wrappedKey: Uint8Array) => (wrapped.equals(wrappedKey) ? ownKey : unwrapped.get(wrappedKey));

  const codec: PayloadCodec = {
    async encode(payloads: Payload[]): Promise<Payload[]> {
      return payloads.map((payload) => {
        const iv = randomBytes(IV_BYTES);
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
      const settled = await Promise.allSettled(payloads.map((payload, index) => decodeOne(payload, index)));
      // The first payload that failed, in order, whatever finished first.
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      return settled.map((r) => (r as PromiseFulfilledResult<Payload>).value);
    },
  };

  async function decodeOne(payload: Payload, index: number): Promise<Payload> {
    const metadata = payload.metadata ?? {};
    // Payloads written before encryption (or by another codec) pass through untouched, outside production.
    if (!metadata.encoding || Buffer.from(metadata.encoding).toString() !== ENCRYPTED_ENCODING) {
      if (options.refusePlaintext) throw new PayloadDecodeError(index, 'is not encrypted');
      return payload;
    }
    const raw = Buffer.from(payload.data ?? []);
    if (raw.length < IV_BYTES + TAG_BYTES) throw new PayloadDecodeError(index, 'data shorter than IV and tag');
    const wrappedKey = metadata['encryption-wrapped-key'];
    if (!wrappedKey || wrappedKey.length === 0) throw new PayloadDecodeError(index, 'no wrapped key');
    // `encryption-key-id` is informational: the key is found by the wrapped key itself.
    const key = await keyFor(wrappedKey).catch((error: unknown) => {
      if (error instanceof DataKeyRefusedError) throw new PayloadDecodeError(index, 'the wrapped key does not open');
      throw new KeyServiceUnavailableError(error);
    });
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecodeError(index, 'does not authenticate under its key');
    }
    try {
      return PayloadMessage.decode(plain);
    } catch {
      throw new PayloadDecodeError(index, 'is not a payload');
    }
  }

  return codec;
}
