import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
// A CommonJS module: Node's ESM loader sees only its default export.
import proto from '@temporalio/proto';
import type { KeyService } from '../crypto/field-cipher.js';

const { Payload: PayloadMessage } = proto.temporal.api.common.v1;
export const ENCRYPTED_ENCODING = 'binary/encrypted';
const CONTEXT = { purpose: 'temporal-payloads' };
const utf8 = (text: string) => new TextEncoder().encode(text);

/**
 * Encrypts every workflow and activity payload with AES-256-GCM under a data key that KMS
 * wraps. The wrapped key travels in the payload's metadata, so any process that may call
 * KMS (worker, client, codec server, replay) can decrypt; the Temporal server and its
 * database only ever see ciphertext.
 */
export async function createEncryptionCodec(keys: KeyService): Promise<PayloadCodec> {
  const fresh = await keys.generateDataKey(CONTEXT);
  const wrapped = Buffer.from(fresh.wrapped);
  const keyId = createHash('sha256').update(wrapped).digest('hex').slice(0, 32);
  const unwrapped = new Map<string, Promise<Buffer>>([[keyId, Promise.resolve(Buffer.from(fresh.plaintext))]]);

  function keyFor(id: string, wrappedKey: Uint8Array): Promise<Buffer> {
    let key = unwrapped.get(id);
    if (!key) {
      key = keys.decryptDataKey(wrappedKey, CONTEXT).then((plain) => Buffer.from(plain));
      key.catch(() => unwrapped.delete(id)); // a failed unwrap is retried next time
      unwrapped.set(id, key);
    }
    return key;
  }

  return {
    async encode(payloads: Payload[]): Promise<Payload[]> {
      const key = await unwrapped.get(keyId)!;
      return payloads.map((payload) => {
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', key, iv);
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
          const id = Buffer.from(metadata['encryption-key-id'] ?? []).toString();
          const key = await keyFor(id, metadata['encryption-wrapped-key'] ?? new Uint8Array());
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
