import { createHash, randomBytes } from 'node:crypto';

const TOKEN_BYTES = 32;

/** A bearer secret (refresh, reset, verification) with 256 bits from the CSPRNG, URL- and cookie-safe. */
export function newOpaqueToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/**
 * What the database stores instead of the token, so a leaked table grants
 * nothing. Plain SHA-256 suffices: the input is 256 random bits, not a password.
 */
export function hashOpaqueToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
