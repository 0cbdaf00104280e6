import { describe, expect, it } from 'vitest';
import { hashOpaqueToken, newOpaqueToken } from './opaque-tokens.js';
import { openSuccessor, sealSuccessor } from './refresh-successor.js';

describe('sealed refresh successors', () => {
  const spent = newOpaqueToken();
  const successor = newOpaqueToken();
  const sealed = sealSuccessor(spent, hashOpaqueToken(spent), successor);

  it('open with the spent token only', () => {
    expect(openSuccessor(spent, hashOpaqueToken(spent), sealed)).toBe(successor);
    expect(sealed).not.toContain(successor);
    expect(openSuccessor(newOpaqueToken(), hashOpaqueToken(spent), sealed)).toBeNull();
    // The stored hash is no key: a database read opens nothing.
    expect(openSuccessor(hashOpaqueToken(spent), hashOpaqueToken(spent), sealed)).toBeNull();
  });

  it('belong to the row they were sealed for and refuse tampering', () => {
    expect(openSuccessor(spent, hashOpaqueToken(newOpaqueToken()), sealed)).toBeNull();
    const bytes = Buffer.from(sealed, 'base64url');
    bytes[20] = bytes[20]! ^ 1;
    expect(openSuccessor(spent, hashOpaqueToken(spent), bytes.toString('base64url'))).toBeNull();
    expect(openSuccessor(spent, hashOpaqueToken(spent), 'short')).toBeNull();
  });
});
