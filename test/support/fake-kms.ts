import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyService } from '../../infra/crypto/field-cipher.js';

// A pure in-process stand-in for KMS: wraps data keys under one master key, bound to the context.
export function fakeKms() {
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

