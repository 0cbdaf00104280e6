import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createFieldCipher, mask, type DataKeyStore, type KeyService } from './field-cipher.js';

// A pure in-process stand-in for KMS: wraps data keys under one master key, bound to the context.
function fakeKms() {
  const master = randomBytes(32);
  const calls = { generate: 0, decrypt: 0 };
  const aad = (context: Record<string, string>) => Buffer.from(JSON.stringify(context));
  const service: KeyService = {
    async generateDataKey(context) {
      calls.generate += 1;
      const plaintext = randomBytes(32);
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', master, iv).setAAD(aad(context));
      const body = Buffer.concat([c.update(plaintext), c.final()]);
      return { plaintext, wrapped: Buffer.concat([iv, c.getAuthTag(), body]) };
    },
    async decryptDataKey(wrapped, context) {
      calls.decrypt += 1;
      const raw = Buffer.from(wrapped);
      const d = createDecipheriv('aes-256-gcm', master, raw.subarray(0, 12)).setAAD(aad(context));
      d.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([d.update(raw.subarray(28)), d.final()]);
    },
  };
  return { service, calls };
}

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

  it('masks all but the last characters', () => {
    expect(mask('P1234567', 3)).toBe('*****567');
    expect(mask('ab', 3)).toBe('ab');
  });
});
