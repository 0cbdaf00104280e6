import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTHeaderParameters } from 'jose';

/** Roles an access token may carry; anything else is refused at verification. */
export const ACCESS_TOKEN_ROLES = ['user', 'support', 'admin'] as const;
export type AccessTokenRole = (typeof ACCESS_TOKEN_ROLES)[number];

/** One HMAC key of the ring; `kid` names it in the token header so keys can rotate. */
export interface AccessTokenKey {
  kid: string;
  secret: Uint8Array;
}

export interface AccessTokenOptions {
  /** The first key signs; every key verifies, so a retired key keeps working until removed. */
  keys: ReadonlyArray<AccessTokenKey>;
  issuer: string;
  audience: string;
  ttlSeconds?: number;
  clockToleranceSeconds?: number;
}

export interface AccessTokenSubject {
  userId: string;
  sessionId: string;
  role: AccessTokenRole;
}

export interface VerifiedAccessToken extends AccessTokenSubject {
  expiresAt: Date;
}

/** Why a token was refused: the API answers 401 either way, but clients refresh only on 'expired'. */
export class AccessTokenError extends Error {
  constructor(
    readonly reason: 'expired' | 'invalid',
    options?: ErrorOptions,
  ) {
    super(`Access token ${reason}.`, options);
    this.name = 'AccessTokenError';
  }
}

const ALG = 'HS256';
const TYP = 'at+jwt'; // RFC 9068: keeps ID tokens and other JWTs from passing as access tokens
const MIN_SECRET_BYTES = 32; // RFC 7518 §3.2: an HS256 key is at least the hash size
const MAX_TOKEN_LENGTH = 4_096;
const REQUIRED_CLAIMS = ['sub', 'sid', 'role', 'iat', 'nbf', 'exp', 'jti'];

/**
 * Short-lived HS256 access JWTs (ASVS 9.1, 9.2). Verification pins the
 * algorithm, type, issuer, audience and key id, so `alg: none`, algorithm
 * swaps and tokens from other keys or services all fail.
 */
export function createAccessTokens(options: AccessTokenOptions) {
  const { issuer, audience, ttlSeconds = 900, clockToleranceSeconds = 5 } = options;
  const ring = keyRing(options.keys);
  const [signer] = options.keys;
  if (!signer) throw new Error('Access tokens need at least one key.');
  const signingKey = ring.get(signer.kid)!;

  // An unknown or missing kid fails here, before any signature check.
  function resolveKey(header: JWTHeaderParameters): Uint8Array {
    const key = typeof header.kid === 'string' ? ring.get(header.kid) : undefined;
    if (!key) throw new AccessTokenError('invalid');
    return key;
  }

  return {
    async issue(subject: AccessTokenSubject): Promise<{ token: string; expiresAt: Date }> {
      const now = Math.floor(Date.now() / 1000);
      const exp = now + ttlSeconds;
      const token = await new SignJWT({ sid: subject.sessionId, role: subject.role })
        .setProtectedHeader({ alg: ALG, kid: signer.kid, typ: TYP })
        .setSubject(subject.userId)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(exp)
        .setJti(randomUUID())
        .sign(signingKey);
      return { token, expiresAt: new Date(exp * 1000) };
    },

    /** Resolves the token's subject or throws `AccessTokenError`. */
    async verify(token: string): Promise<VerifiedAccessToken> {
      if (!isCanonicalCompactJws(token)) throw new AccessTokenError('invalid');
      let payload;
      try {
        ({ payload } = await jwtVerify(token, resolveKey, {
          algorithms: [ALG],
          typ: TYP,
          issuer,
          audience,
          clockTolerance: clockToleranceSeconds,
          requiredClaims: REQUIRED_CLAIMS,
        }));
      } catch (error) {
        if (error instanceof AccessTokenError) throw error;
        throw new AccessTokenError(error instanceof errors.JWTExpired ? 'expired' : 'invalid', { cause: error });
      }
      const { sub, sid, role, exp } = payload;
      if (!nonEmpty(sub) || !nonEmpty(sid) || !isRole(role) || typeof exp !== 'number') {
        throw new AccessTokenError('invalid');
      }
      return { userId: sub, sessionId: sid, role, expiresAt: new Date(exp * 1000) };
    },
  };
}

/** The port handlers and middleware depend on. */
export type AccessTokens = ReturnType<typeof createAccessTokens>;

function keyRing(keys: ReadonlyArray<AccessTokenKey>): Map<string, Uint8Array> {
  const ring = new Map<string, Uint8Array>();
  for (const { kid, secret } of keys) {
    if (kid === '' || ring.has(kid)) throw new Error(`Access token key ids must be unique and non-empty (got "${kid}").`);
    if (secret.byteLength < MIN_SECRET_BYTES) throw new Error(`Access token key "${kid}" is shorter than ${MIN_SECRET_BYTES} bytes.`);
    ring.set(kid, Uint8Array.from(secret)); // a copy: the caller's buffer may be reused or zeroed
  }
  return ring;
}

// Base64url is malleable in its last character's spare bits; jose decodes leniently,
// so without this check a token has several spellings that all verify.
function isCanonicalCompactJws(token: string): boolean {
  if (token.length > MAX_TOKEN_LENGTH) return false;
  const segments = token.split('.');
  return (
    segments.length === 3 &&
    segments.every((s) => /^[A-Za-z0-9_-]+$/.test(s) && Buffer.from(s, 'base64url').toString('base64url') === s)
  );
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function isRole(value: unknown): value is AccessTokenRole {
  return typeof value === 'string' && (ACCESS_TOKEN_ROLES as readonly string[]).includes(value);
}
