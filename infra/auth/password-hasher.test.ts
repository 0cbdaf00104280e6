import * as argon2 from '@node-rs/argon2';
import { describe, expect, it, vi } from 'vitest';
import { createPasswordHasher, OWASP_ARGON2ID } from './password-hasher.js';

// Pass-through spy: the real verify runs, the test sees what it was given.
vi.mock('@node-rs/argon2', async (importOriginal) => {
  const real = await importOriginal<typeof argon2>();
  return { ...real, verify: vi.fn(real.verify) };
});

const params = (encoded: string) => encoded.split('$').slice(1, 4).join('$');

describe('password hasher', () => {
  const hasher = createPasswordHasher();

  it('hashes with argon2id at the OWASP minimum and verifies the same password', async () => {
    const encoded = await hasher.hash('correct horse battery staple');
    expect(params(encoded)).toBe('argon2id$v=19$m=19456,t=2,p=1');
    expect(encoded).not.toContain('correct horse');
    expect(await hasher.verify(encoded, 'correct horse battery staple')).toBe(true);
    expect(await hasher.hash('correct horse battery staple')).not.toBe(encoded); // fresh salt
  });

  it('says false for a wrong password', async () => {
    const encoded = await hasher.hash('correct horse battery staple');
    expect(await hasher.verify(encoded, 'correct horse battery stapler')).toBe(false);
  });

  it('says false, without throwing, for malformed hashes', async () => {
    for (const bad of ['', 'garbage', '$argon2id$v=19$m=19456,t=2,p=1$', '$2b$10$abcdefghijklmnopqrstuv']) {
      await expect(hasher.verify(bad, 'whatever')).resolves.toBe(false);
    }
  });

  it('runs a real verification against a dummy hash of the same cost for unknown users', async () => {
    const spy = vi.mocked(argon2.verify);
    spy.mockClear();
    await expect(hasher.verifyAgainstDummy('correct horse battery staple')).resolves.toBe(false);
    expect(spy).toHaveBeenCalledTimes(1);
    const [dummy, password] = spy.mock.calls[0]!;
    expect(password).toBe('correct horse battery staple');
    expect(params(String(dummy))).toBe(params(await hasher.hash('x')));
  });

  it('asks for a rehash when the stored hash is weaker, another algorithm or unreadable', async () => {
    const weak = await createPasswordHasher({ ...OWASP_ARGON2ID, memoryCost: 8_192 }).hash('pw');
    const argon2i = await argon2.hash('pw', { algorithm: 1 as argon2.Algorithm });
    expect(hasher.needsRehash(await hasher.hash('pw'))).toBe(false);
    expect(hasher.needsRehash(weak)).toBe(true);
    expect(hasher.needsRehash(argon2i)).toBe(true);
    expect(hasher.needsRehash('garbage')).toBe(true);
    expect(createPasswordHasher({ ...OWASP_ARGON2ID, timeCost: 3 }).needsRehash(await hasher.hash('pw'))).toBe(true);
  });
});
