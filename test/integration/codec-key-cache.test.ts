import { afterAll, describe, expect, it } from 'vitest';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { loadConfig } from '../../infra/config.js';
import type { KeyService } from '../../infra/crypto/field-cipher.js';
import { createKmsKeyService } from '../../infra/kms/kms.key-service.js';
import { createEncryptionCodec } from '../../infra/temporal/encryption-codec.js';

// SECURITY.md §35: the codec's cache of unwrapped keys is keyed by what it derived from the
// wrapped key, not by the id the payload claims, and holds a bounded number of keys. Real local-kms.
const kms = createKmsKeyService(loadConfig({ ...process.env, NODE_ENV: 'test' }).kms);
afterAll(() => kms.destroy());

/** The real KMS key service, counting the unwraps that reach KMS. */
function countingKeys() {
  let decrypts = 0;
  const keys: KeyService = {
    generateDataKey: (context) => kms.generateDataKey(context),
    decryptDataKey: (wrapped, context) => {
      decrypts += 1;
      return kms.decryptDataKey(wrapped, context);
    },
  };
  return { keys, decrypts: () => decrypts };
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const valueOf = (payload: Payload) => defaultPayloadConverter.fromPayload(payload);
const BOUND = 256; // the codec's bound on cached keys

describe('encryption codec key cache', () => {
  it('unwraps one wrapped key once, whatever key ids 1000 payloads claim', async () => {
    const writer = await createEncryptionCodec(kms); // another process's codec
    const [encoded] = await writer.encode([defaultPayloadConverter.toPayload({ passportNumber: 'X1234567' })]);
    const counted = countingKeys();
    const reader = await createEncryptionCodec(counted.keys);
    const forged = Array.from({ length: 1000 }, (_, i) => ({
      ...encoded!,
      metadata: { ...encoded!.metadata, 'encryption-key-id': utf8(`attacker-chosen-${i}`) },
    }));
    const decoded = await reader.decode(forged);
    expect(decoded.map(valueOf)).toEqual(forged.map(() => ({ passportNumber: 'X1234567' })));
    // Sequentially too: a later payload with yet another id finds the key in the cache.
    await reader.decode([{ ...encoded!, metadata: { ...encoded!.metadata, 'encryption-key-id': utf8('one-more') } }]);
    expect(counted.decrypts()).toBe(1);
  });

  it(`holds at most ${BOUND} unwrapped keys, evicting the least recently used`, async () => {
    const writers = await Promise.all(Array.from({ length: BOUND + 4 }, () => createEncryptionCodec(kms)));
    const payloads = await Promise.all(writers.map(async (w, i) => (await w.encode([defaultPayloadConverter.toPayload(i)]))[0]!));
    const counted = countingKeys();
    const reader = await createEncryptionCodec(counted.keys);
    for (const payload of payloads) await reader.decode([payload]);
    expect(counted.decrypts()).toBe(BOUND + 4);

    // The newest BOUND keys are all still there (touched oldest first, so nothing is evicted)...
    const recent = payloads.slice(4);
    expect((await reader.decode(recent)).map(valueOf)).toEqual(recent.map((_, i) => i + 4));
    expect(counted.decrypts()).toBe(BOUND + 4);
    // ...and the four oldest are not: each needs KMS again.
    for (const payload of payloads.slice(0, 4).reverse()) await reader.decode([payload]);
    expect(counted.decrypts()).toBe(BOUND + 8);
  });

  it('does not keep a failed unwrap: the same wrapped key works once KMS can open it', async () => {
    const writer = await createEncryptionCodec(kms);
    const [encoded] = await writer.encode([defaultPayloadConverter.toPayload('ok')]);
    let failNext = true;
    const flaky: KeyService = {
      generateDataKey: (context) => kms.generateDataKey(context),
      decryptDataKey: async (wrapped, context) => {
        if (failNext) {
          failNext = false;
          throw new Error('KMS throttled');
        }
        return kms.decryptDataKey(wrapped, context);
      },
    };
    const reader = await createEncryptionCodec(flaky);
    await expect(reader.decode([encoded!])).rejects.toThrow('KMS throttled');
    expect((await reader.decode([encoded!])).map(valueOf)).toEqual(['ok']);
  });
});
