import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const INFO = 'travelconnect refresh successor';
const IV_BYTES = 12;
const TAG_BYTES = 16;

// A key only the holder of the spent token can derive: the database keeps its SHA-256, never the token.
const keyOf = (spentToken: string) => Buffer.from(hkdfSync('sha256', spentToken, '', INFO, 32));

/**
 * The successor of a refresh token, sealed under a key derived from the spent token (AES-256-GCM,
 * bound to the spent token's hash), so the refresh grace can hand the same successor to a second
 * tab while a database read still yields no usable token.
 */
export function sealSuccessor(spentToken: string, spentHash: string, successor: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyOf(spentToken), iv).setAAD(Buffer.from(spentHash));
  const sealed = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
}

/** The successor sealed by `sealSuccessor`, or null when the token or the hash is not the one it was sealed for. */
export function openSuccessor(spentToken: string, spentHash: string, sealedValue: string): string | null {
  const bytes = Buffer.from(sealedValue, 'base64url');
  if (bytes.length <= IV_BYTES + TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(spentToken), bytes.subarray(0, IV_BYTES)).setAAD(Buffer.from(spentHash));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
