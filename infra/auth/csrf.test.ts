import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCsrfTokens } from './csrf.js';

const csrf = createCsrfTokens(randomBytes(32));

describe('csrf tokens', () => {
  it('verifies a token in header and cookie for the session it was issued to', () => {
    const token = csrf.issue('session-1');
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(csrf.verify('session-1', token, token)).toBe(true);
    expect(csrf.issue('session-1')).not.toBe(token); // fresh nonce each time
  });

  it("refuses another session's token", () => {
    const token = csrf.issue('session-2');
    expect(csrf.verify('session-1', token, token)).toBe(false);
    expect(csrf.verify('session-2.x', csrf.issue('session-2'), csrf.issue('session-2'))).toBe(false);
  });

  it('refuses a token made with another key', () => {
    const token = createCsrfTokens(randomBytes(32)).issue('session-1');
    expect(csrf.verify('session-1', token, token)).toBe(false);
  });

  it('refuses when header and cookie differ or either is missing', () => {
    const a = csrf.issue('session-1');
    const b = csrf.issue('session-1');
    expect(csrf.verify('session-1', a, b)).toBe(false);
    expect(csrf.verify('session-1', a, undefined)).toBe(false);
    expect(csrf.verify('session-1', undefined, a)).toBe(false);
    expect(csrf.verify('session-1', '', '')).toBe(false);
    expect(csrf.verify('', a, a)).toBe(false);
  });

  it('refuses tampered tokens', () => {
    const token = csrf.issue('session-1');
    const [nonce, tag] = token.split('.') as [string, string];
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    for (const bad of [`${flip(nonce)}.${tag}`, `${nonce}.${flip(tag)}`, `${nonce}.${tag}.`, `${nonce}.${tag}=`, `${nonce}.${tag.slice(0, -1)}`, nonce, tag]) {
      expect(csrf.verify('session-1', bad, bad)).toBe(false);
    }
  });

  it('refuses keys shorter than 32 bytes', () => {
    expect(() => createCsrfTokens(randomBytes(31))).toThrow(/32 bytes/);
  });

  it('never verifies random strings, nor a random token shaped like a real one', () => {
    const shaped = fc
      .tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 32, maxLength: 32 }))
      .map(([n, t]) => `${Buffer.from(n).toString('base64url')}.${Buffer.from(t).toString('base64url')}`);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), shaped), fc.string(), (token, sessionId) => {
        expect(csrf.verify(sessionId, token, token)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
