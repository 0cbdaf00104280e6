import { describe, expect, it } from 'vitest';
import { hashOpaqueToken, newOpaqueToken } from './opaque-tokens.js';

describe('opaque tokens', () => {
  it('carries 256 random bits as unpadded base64url', () => {
    const token = newOpaqueToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
  });

  it('never repeats', () => {
    const tokens = new Set(Array.from({ length: 1_000 }, newOpaqueToken));
    expect(tokens.size).toBe(1_000);
  });

  it('uses every base64url symbol over many tokens (no stuck bits)', () => {
    const seen = new Set(Array.from({ length: 200 }, newOpaqueToken).join(''));
    expect(seen.size).toBe(64);
  });

  it('hashes deterministically to SHA-256 hex', () => {
    const token = newOpaqueToken();
    expect(hashOpaqueToken(token)).toBe(hashOpaqueToken(token));
    expect(hashOpaqueToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashOpaqueToken(token)).not.toBe(hashOpaqueToken(newOpaqueToken()));
    expect(hashOpaqueToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
