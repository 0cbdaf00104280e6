import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const MIN_KEY_BYTES = 32;
const NONCE_BYTES = 16;
const MAX_TOKEN_LENGTH = 256;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Session-bound CSRF tokens (ASVS 3.5.1), sent twice: in a cookie and in the
 * `X-CSRF-Token` header. The HMAC ties a token to one session, so a token
 * planted from another session (cookie tossing) is refused; every comparison
 * is constant-time. Use a key of its own, not one shared with other MACs.
 */
export function createCsrfTokens(key: Uint8Array) {
  if (key.byteLength < MIN_KEY_BYTES) throw new Error(`The CSRF key must be at least ${MIN_KEY_BYTES} bytes.`);
  const secret = Buffer.from(key); // a copy: the caller's buffer may be reused or zeroed

  // The nonce is base64url and never holds a '.', so "session.nonce" parses one way only.
  const mac = (sessionId: string, nonce: string) =>
    createHmac('sha256', secret).update(`${sessionId}.${nonce}`, 'utf8').digest('base64url');

  return {
    issue(sessionId: string): string {
      const nonce = randomBytes(NONCE_BYTES).toString('base64url');
      return `${nonce}.${mac(sessionId, nonce)}`;
    },

    /** True only if header and cookie carry the same token and it was issued for this session. */
    verify(sessionId: string, headerToken: string | undefined, cookieToken: string | undefined): boolean {
      if (!sessionId || !headerToken || !cookieToken) return false;
      if (headerToken.length > MAX_TOKEN_LENGTH || !sameText(headerToken, cookieToken)) return false;
      const parts = headerToken.split('.');
      if (parts.length !== 2) return false;
      const [nonce, tag] = parts as [string, string];
      if (!BASE64URL.test(nonce) || !BASE64URL.test(tag)) return false;
      return sameText(tag, mac(sessionId, nonce));
    },
  };
}

/** The port the API depends on. */
export type CsrfTokens = ReturnType<typeof createCsrfTokens>;

// timingSafeEqual throws on unequal lengths; a length mismatch reveals only the length.
function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
