import { hkdfSync } from 'node:crypto';
import type { Config } from '../infra/config.js';
import { createAccessTokens } from '../infra/auth/access-tokens.js';
import { loadCommonPasswords } from '../infra/auth/common-passwords.js';
import { createCsrfTokens } from '../infra/auth/csrf.js';
import { createDeviceCookies } from '../infra/auth/device-cookie.js';
import { createLoginGuard } from '../infra/auth/login-guard.js';
import { createPasswordHasher } from '../infra/auth/password-hasher.js';
import { createSessionStore } from '../infra/auth/session.store.js';
import { createHttpCaptchaVerifier } from '../infra/captcha/captcha-verifier.js';
import type { Orm } from '../infra/db/orm.js';
import { createSlidingWindowLimiter } from '../infra/rate-limit/sliding-window.js';
import type { Redis } from '../infra/redis.js';

/** One key per purpose, derived from AUTH_HMAC_KEY, so a CSRF token can never pass for anything else. */
const subkey = (secret: string, purpose: string) => new Uint8Array(hkdfSync('sha256', secret, 'travelconnect-auth', purpose, 32));

/** The identity building blocks, built from config the same way by the API and by the tests. */
export function createAuthComponents(config: Config, io: { orm: Orm; redis: Redis }) {
  const { auth } = config;
  return {
    accessTokens: createAccessTokens({
      keys: auth.signingKeys.map(({ kid, secretBase64url }) => ({ kid, secret: new Uint8Array(Buffer.from(secretBase64url, 'base64url')) })),
      issuer: auth.issuer,
      audience: auth.audience,
      ttlSeconds: auth.accessTokenTtlSeconds,
    }),
    csrf: createCsrfTokens(subkey(auth.hmacKey, 'csrf')),
    devices: createDeviceCookies(Buffer.from(subkey(auth.hmacKey, 'device')).toString('base64url')),
    sessions: createSessionStore(io.orm, io.redis, { maxAgeSeconds: auth.sessionMaxAgeSeconds, idleTimeoutSeconds: auth.idleTimeoutSeconds }),
    hasher: createPasswordHasher(),
    commonPasswords: loadCommonPasswords(),
    guard: createLoginGuard(io.redis),
    captcha: createHttpCaptchaVerifier({ verifyUrl: auth.captcha.verifyUrl, secret: auth.captcha.secret, timeoutMs: 3_000 }),
    limiter: createSlidingWindowLimiter(io.redis),
  };
}
export type AuthComponents = ReturnType<typeof createAuthComponents>;
