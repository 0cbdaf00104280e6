import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditEvent } from '../infra/audit/audit-log.js';
import type { LoginGuard } from '../infra/auth/login-guard.js';
import type { PasswordHasher } from '../infra/auth/password-hasher.js';
import type { CaptchaVerifier } from '../infra/captcha/captcha-verifier.js';
import { ipRateLimitSubject } from '../infra/rate-limit/ip-subject.js';
import { ApiError } from './problem.js';

// docs/api.md "Authentication": 5 failed logins per 15 minutes per IP; every password check shares the budget.
export const PASSWORD_FAILURES_PER_IP = { limit: 5, windowMs: 15 * 60_000 };

export interface PasswordCheckDeps {
  guard: LoginGuard;
  hasher: PasswordHasher;
  captcha: CaptchaVerifier;
  /** Keys the pseudonyms of addresses without an account in the audit log. */
  auditKey: string;
  audit: (event: AuditEvent) => Promise<void>;
}

/** Who claims to know the password: an account by its address (null when none exists). */
export interface Claimant {
  email: string;
  user: { id: string; passwordHash?: string | null } | null;
}

export interface CheckContext {
  ip: string;
  userAgent: string;
  /** The id of a device whose cookie the account's current password vouches for (infra/auth/device-cookie.ts). */
  recognisedDevice: string | undefined;
  captchaToken?: string;
  /** The audited action: `auth.login`, `account.delete-request`, ... */
  action: string;
  /** Who the audit log says acted: `anonymous` before sign-in, the session's user after. */
  actor: string;
}

/**
 * How the audit log names an account: its id when it exists (erasure anonymizes the row behind
 * the id, which unlinks it from the address), else a keyed HMAC of the address that nobody
 * without the secret can match to an address (an unsalted hash can be, by hashing guesses).
 */
export function createAccountRef(auditKey: string) {
  const pepper = createHmac('sha256', auditKey).update('audit-account-ref').digest();
  return (claimant: Claimant) =>
    claimant.user ? `user:${claimant.user.id}` : `account:${createHmac('sha256', pepper).update(claimant.email).digest('hex').slice(0, 32)}`;
}

const retryAfter = (ms: number) => ({ 'Retry-After': String(Math.max(1, Math.ceil(ms / 1000))) });

/**
 * Every password check of the API (login, account deletion, re-authentication) goes through
 * here (SECURITY.md §32, §36): the per-address limit, the per-account delay, CAPTCHA and lock,
 * reserved atomically before the hash is verified, and every refusal and failure audited.
 */
export function createPasswordCheck(deps: PasswordCheckDeps) {
  const accountRef = createAccountRef(deps.auditKey);

  /** True when the password is right; refusals (limited, locked, CAPTCHA) are thrown. */
  return async function checkPassword(claimant: Claimant, password: string, ctx: CheckContext): Promise<boolean> {
    const address = { subject: ipRateLimitSubject(ctx.ip), ...PASSWORD_FAILURES_PER_IP };
    const audit = (result: string) =>
      deps.audit({ actor: ctx.actor, action: ctx.action, resource: accountRef(claimant), result, ip: ctx.ip, userAgent: ctx.userAgent });
    const reserve = (captchaPassed: boolean) => deps.guard.reserve(claimant.email, { recognisedDevice: ctx.recognisedDevice, captchaPassed, address });

    let attempt = await reserve(false);
    // A CAPTCHA answer is checked only when one is asked for: it is spent at the verifier.
    if (attempt.outcome === 'captcha-required' && ctx.captchaToken && (await deps.captcha.verify(ctx.captchaToken, ctx.ip))) attempt = await reserve(true);
    switch (attempt.outcome) {
      case 'address-limited':
        await audit('rate-limited');
        throw new ApiError('RATE_LIMITED', { headers: retryAfter(attempt.retryAfterMs) });
      case 'locked':
        await audit('locked');
        throw new ApiError('ACCOUNT_LOCKED', { headers: retryAfter(attempt.retryAfterMs) });
      case 'captcha-required':
        await audit('captcha-required');
        throw new ApiError('CAPTCHA_REQUIRED');
      case 'judge':
        break;
    }
    if (attempt.delayMs > 0) await sleep(attempt.delayMs);
    const valid = claimant.user?.passwordHash
      ? await deps.hasher.verify(claimant.user.passwordHash, password)
      : await deps.hasher.verifyAgainstDummy(password);
    if (!valid || !claimant.user) {
      await audit('failure');
      return false;
    }
    await deps.guard.succeeded(claimant.email, address, attempt.attemptId);
    return true;
  };
}
export type PasswordCheck = ReturnType<typeof createPasswordCheck>;
