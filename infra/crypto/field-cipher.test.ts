import { describe, expect, it } from 'vitest';
import { createFieldCipher, mask, type DataKeyStore } from './field-cipher.js';
import { fakeKms } from '../../test/support/fake-kms.js';

function memoryStore(): DataKeyStore {
  const keys = new Map<string, string>();
  return {
    async load(userId) {
      return keys.get(userId) ?? null;
    },
    async saveIfAbsent(userId, wrapped) {
      if (!keys.has(userId)) keys.set(userId, wrapped);
      return keys.get(userId)!;
    },
  };
}

describe('field cipher', () => {
  it('round-trips, never shows the plaintext, and uses a fresh IV each time', async () => {
    const cipher = createFieldCipher({ keys: fakeKms().service, store: memoryStore() });
    const a = await cipher.encrypt('user-1', 'P1234567');
    const b = await cipher.encrypt('user-1', 'P1234567');
    expect(a).not.toContain('P1234567');
    expect(a).not.toBe(b);
    expect(await cipher.decrypt('user-1', a)).toBe('P1234567');
  });

  it("refuses another user's ciphertext and a tampered one", async () => {
    const cipher = createFieldCipher({ keys: fakeKms().service, store: memoryStore() });
    const sealed = await cipher.encrypt('user-1', 'P1234567');
    await expect(cipher.decrypt('user-2', sealed)).rejects.toThrow();
    const [v, iv, body] = sealed.split('.');
    const flipped = Buffer.from(body!, 'base64url');
    flipped[0]! ^= 1;
    await expect(cipher.decrypt('user-1', `${v}.${iv}.${flipped.toString('base64url')}`)).rejects.toThrow();
  });

  it('asks KMS once per user while the cached key is fresh, and again after it ages out', async () => {
    let now = 0;
    const kms = fakeKms();
    const cipher = createFieldCipher({ keys: kms.service, store: memoryStore(), cacheMaxAgeMs: 1000, now: () => now });
    for (let i = 0; i < 5; i += 1) await cipher.encrypt('user-1', 'x');
    expect(kms.calls).toEqual({ generate: 1, decrypt: 0 });
    now = 2000;
    await cipher.encrypt('user-1', 'x');
    expect(kms.calls).toEqual({ generate: 1, decrypt: 1 });
  });

  it('asks KMS again once a cached key has been used cacheMaxUses times', async () => {
    const kms = fakeKms();
    const cipher = createFieldCipher({ keys: kms.service, store: memoryStore(), cacheMaxUses: 3 });
    const sealed = await cipher.encrypt('user-1', 'P1234567'); // generates: 1 KMS call
    for (let i = 0; i < 3; i += 1) await cipher.decrypt('user-1', sealed); // 3 uses of the cached key
    expect(kms.calls).toEqual({ generate: 1, decrypt: 0 });
    expect(await cipher.decrypt('user-1', sealed)).toBe('P1234567'); // spent: unwrapped again
    expect(kms.calls).toEqual({ generate: 1, decrypt: 1 });
  });

  it('masks all but the last characters', () => {
    expect(mask('P1234567', 3)).toBe('*****567');
    expect(mask('ab', 3)).toBe('ab');
  });
});
