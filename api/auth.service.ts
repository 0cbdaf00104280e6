import { randomUUID } from 'node:crypto';
import { checkPassword } from '../domain/identity/password-policy.js';
import type { AuditEvent } from '../domain/audit-event.js';
import type { AccessTokens } from '../infra/auth/access-tokens.js';
import type { CsrfTokens } from '../infra/auth/csrf.js';
import type { DeviceCookies } from '../infra/auth/device-cookie.js';
import type { LoginGuard } from '../infra/auth/login-guard.js';
import { hashOpaqueToken, newOpaqueToken } from '../infra/auth/opaque-tokens.js';
import type { PasswordHasher } from '../infra/auth/password-hasher.js';
import { CredentialsChangedError, type SessionStore } from '../infra/auth/session.store.js';
import type { FieldCipher } from '../infra/crypto/field-cipher.js';
import type { OutgoingMail } from '../infra/mail/outbox.js';
import type { Role } from './env.js';
import { ApiError } from './problem.js';
import { createAccountRef, type PasswordCheck } from './password-check.js';
import type { AuditWriter } from './ports.js';
import type { UserRecord } from './users.service.js';

type Purpose = 'verify-email' | 'password-reset';

/** One transaction's work on accounts, single-use tokens (by their hash), mail and audit. */
export interface AccountTx {
  userByEmail(email: string): Promise<UserRecord | null>;
  createUser(user: { id: string; email: string }): void;
  addToken(token: { tokenHash: string; userId: string; purpose: Purpose; expiresAt: Date; pendingPasswordHash?: string; pendingName?: string }): void;
  /** Spends a live token; its owner, or null for an unknown, used or expired one. */
  spendToken(tokenHash: string, purpose: Purpose): Promise<UserRecord | null>;
  /** Spends every token of the user still unused. */
  spendTokensOf(userId: string): Promise<void>;
  /** `verifyEmail` marks the address confirmed unless it is already. */
  updateUser(userId: string, changes: { passwordHash?: string | null; name?: string; phone?: string; verifyEmail?: boolean }): Promise<UserRecord>;
  audit(event: AuditEvent): Promise<void>;
  /** Queues the mail (the notification workflow delivers it once this commits); its outbox id. */
  enqueueMail(mail: OutgoingMail): Promise<string>;
}

/** The accounts the auth service reads and changes (infra/db/accounts.store.ts): plain records, never entities. */
export interface AccountRecords {
  findByEmail(email: string): Promise<UserRecord | null>;
  find(userId: string): Promise<UserRecord | null>;
  /** A live token, its owner and the signup credentials it carries; null for an unknown, used or expired one. */
  liveToken(tokenHash: string, purpose: Purpose): Promise<{ owner: UserRecord; pendingPasswordHash: string | null; pendingName: string | null; pendingPhone: string | null } | null>;
  setPendingPhone(tokenHash: string, phone: string): Promise<void>;
  /** `work` in one transaction; `againOnDuplicate` runs it once more after a unique violation (a racing insert won). */
  transaction<T>(work: (tx: AccountTx) => Promise<T>, options?: { againOnDuplicate?: boolean }): Promise<T>;
}

export interface AuthDeps {
  accounts: AccountRecords;
  audit: AuditWriter;
  hasher: PasswordHasher;
  commonPasswords: ReadonlySet<string>;
  accessTokens: AccessTokens;
  csrf: CsrfTokens;
  devices: DeviceCookies;
  sessions: SessionStore;
  guard: LoginGuard;
  /** The one password check of the API: limits, lock and audit (api/password-check.ts). */
  checkPassword: PasswordCheck;
  cipher: FieldCipher;
  /** Keys the account references audited before sign-in (password-check.ts). */
  auditKey: string;
  publicAppUrl: string;
  /** Cancels a pending account deletion (signals its workflow and clears the request). */
  restoreAccount: (userId: string) => Promise<void>;
  /** Starts delivery of a committed outbox message (the notification workflow). */
  notify: (outboxId: string) => Promise<void>;
}

/** Who is calling and from where: the audit log and the session list show it. */
export interface CallContext {
  ip: string;
  userAgent: string;
}


const VERIFY_TTL_MS = 24 * 3600_000;

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

export function createAuthService(deps: AuthDeps) {
  const accountRef = createAccountRef(deps.auditKey);
  const audit = (event: AuditEvent) => deps.audit(event);

  function passwordProblems(password: string, email: string, path = 'password') {
    const messages = checkPassword(password, email, deps.commonPasswords);
    if (messages.length > 0) throw new ApiError('VALIDATION_FAILED', { errors: messages.map((message) => ({ path, message })) });
  }

  /** A verification link carrying its signup's credentials; they apply only when it is confirmed with that password. */
  function issueVerification(tx: AccountTx, userId: string, pending: { passwordHash: string; name: string }) {
    const token = newOpaqueToken();
    tx.addToken({
      tokenHash: hashOpaqueToken(token), userId, purpose: 'verify-email', expiresAt: new Date(Date.now() + VERIFY_TTL_MS),
      pendingPasswordHash: pending.passwordHash, pendingName: pending.name,
    });
    return token;
  }

  /** Spends a single-use token; the same answer for unknown, used and expired ones. */
  async function spendOneTimeToken(tx: AccountTx, token: string, purpose: Purpose) {
    const owner = await tx.spendToken(hashOpaqueToken(token), purpose);
    if (!owner) throw new ApiError('INVALID_TOKEN');
    return owner;
  }

  /** What a signed-in client holds: a fresh access token for the session, the refresh token, the CSRF token. */
  async function tokensFor(user: UserRecord, session: { id: string; expiresAt: Date }, refreshToken: string) {
    const access = await deps.accessTokens.issue({ userId: user.id, sessionId: session.id, role: user.role as Role });
    return {
      user: publicUser(user),
      sessionId: session.id,
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken,
      refreshTokenExpiresAt: session.expiresAt,
      csrfToken: deps.csrf.issue(session.id),
    };
  }

  /** A new session for the password just verified (`user.passwordHash`), refused if it has changed since. */
  async function signIn(user: UserRecord, ctx: CallContext) {
    try {
      const { session, refreshToken } = await deps.sessions.create(user.id, ctx.userAgent || 'unknown', ctx.ip, { passwordHash: user.passwordHash });
      return await tokensFor(user, session, refreshToken);
    } catch (error) {
      if (error instanceof CredentialsChangedError) throw new ApiError('INVALID_CREDENTIALS');
      throw error;
    }
  }

  /** One signup in one transaction: the mail it queued, and the new user's id when it made one. */
  async function signupOnce(email: string, input: { name: string; phone?: string }, passwordHash: string, ctx: CallContext) {
    return deps.accounts.transaction(async (tx) => {
      const existing = await tx.userByEmail(email);
      if (existing?.emailVerifiedAt) {
        await tx.audit({ actor: 'anonymous', action: 'auth.signup', resource: `user:${existing.id}`, result: 'already-registered', ip: ctx.ip, userAgent: ctx.userAgent });
        return { userId: null, tokenHash: null, outboxId: await tx.enqueueMail({
          recipient: email, template: 'signup-existing', subject: 'Someone tried to sign up with your address',
          body: `Someone tried to create a TravelConnect account with this address, which already has one.\nIf it was you, sign in or reset your password: ${deps.publicAppUrl}/password-reset\n`,
        }) };
      }
      // An account holds no password until its address's owner confirms a signup with the password
      // chosen for it: each signup waits on its own link, so nobody can leave a password for the owner
      // to switch on, nor change what an earlier signup chose.
      const userId = existing?.id ?? randomUUID();
      if (!existing) tx.createUser({ id: userId, email });
      const token = issueVerification(tx, userId, { passwordHash, name: input.name });
      await tx.audit({
        actor: existing ? 'anonymous' : `user:${userId}`, action: 'auth.signup', resource: `user:${userId}`,
        result: existing ? 'link-resent' : 'success', ip: ctx.ip, userAgent: ctx.userAgent,
      });
      return { userId, tokenHash: hashOpaqueToken(token), outboxId: await tx.enqueueMail({
        recipient: email, template: 'verify-email', subject: 'Confirm your e-mail address',
        body: `Welcome to TravelConnect. Confirm your address within 24 hours:\n${deps.publicAppUrl}/verify-email?token=${token}\n`,
      }) };
    // Two first signups of one address race on its unique index: the loser runs again as a second signup.
    }, { againOnDuplicate: true });
  }

  return {
    async signup(input: { email: string; password: string; name: string; phone?: string }, ctx: CallContext) {
      const email = normalizeEmail(input.email);
      passwordProblems(input.password, email);
      // Hashed whether or not the address is taken, so both answers cost the same.
      const passwordHash = await deps.hasher.hash(input.password);
      const { outboxId, userId, tokenHash } = await signupOnce(email, input, passwordHash, ctx);
      if (userId && tokenHash && input.phone) {
        // Once the row is committed: the user's data key is stored on it by another connection.
        await deps.accounts.setPendingPhone(tokenHash, await deps.cipher.encrypt(userId, input.phone));
      }
      await deps.notify(outboxId);
      return { status: 'verification_sent' as const };
    },

    /**
     * Confirms the address with the link and the password chosen at that signup: the signup's
     * credentials become the account's, every other link is spent, and the caller is signed in.
     */
    async verifyEmail(token: string, password: string, ctx: CallContext) {
      const tokenHash = hashOpaqueToken(token);
      const link = await deps.accounts.liveToken(tokenHash, 'verify-email');
      if (!link) throw new ApiError('INVALID_TOKEN');
      const { owner } = link;
      // Links issued before pending signups existed carry no credentials: the account's own apply.
      const chosen = link.pendingPasswordHash ?? owner.passwordHash;
      const valid = await deps.checkPassword({ email: owner.email ?? '', user: { id: owner.id, passwordHash: chosen } }, password, {
        ...ctx, recognisedDevice: undefined, action: 'auth.verify-email', actor: 'anonymous',
      });
      if (!valid) throw new ApiError('INVALID_CREDENTIALS');
      const user = await deps.accounts.transaction(async (tx) => {
        if (!(await tx.spendToken(tokenHash, 'verify-email'))) throw new ApiError('INVALID_TOKEN');
        await tx.spendTokensOf(owner.id);
        const row = await tx.updateUser(owner.id, {
          passwordHash: chosen,
          ...(link.pendingName !== null ? { name: link.pendingName } : {}),
          ...(link.pendingPhone !== null ? { phone: link.pendingPhone } : {}),
          verifyEmail: true,
        });
        await tx.audit({ actor: `user:${owner.id}`, action: 'auth.verify-email', resource: `user:${owner.id}`, result: 'success', ip: ctx.ip, userAgent: ctx.userAgent });
        return row;
      });
      // Whatever signed in under other credentials before (nothing, normally) ends now.
      await deps.sessions.revokeAll(user.id, 'password-reset');
      return signIn(user, ctx);
    },

    async login(input: { email: string; password: string; captchaToken?: string }, ctx: CallContext & { deviceCookie?: string }) {
      const email = normalizeEmail(input.email);
      const user = await deps.accounts.findByEmail(email);
      // Trusted only under the password it was issued with: a reset makes old devices strangers.
      const recognisedDevice = deps.devices.recognise(email, user?.passwordHash, ctx.deviceCookie);
      const valid = await deps.checkPassword({ email, user }, input.password, {
        ...ctx, recognisedDevice, captchaToken: input.captchaToken, action: 'auth.login', actor: 'anonymous',
      });
      if (!valid || !user) throw new ApiError('INVALID_CREDENTIALS');
      // Only the holder of the password learns that the address is not confirmed yet.
      if (!user.emailVerifiedAt) throw new ApiError('EMAIL_NOT_VERIFIED');
      // Signing in during the grace period of an account deletion keeps the account.
      if (user.deletionRequestedAt) await deps.restoreAccount(user.id);
      await audit({ actor: `user:${user.id}`, action: 'auth.login', resource: `user:${user.id}`, result: 'success', ip: ctx.ip, userAgent: ctx.userAgent });
      return { ...(await signIn(user, ctx)), deviceCookie: recognisedDevice ? ctx.deviceCookie! : deps.devices.issue(email, user.passwordHash) };
    },

    async refresh(refreshToken: string) {
      const outcome = await deps.sessions.rotate(refreshToken);
      if (!outcome.ok) {
        if (outcome.reason === 'reused') {
          await audit({ actor: 'anonymous', action: 'auth.refresh-reuse', resource: 'session', result: 'session-revoked' });
        }
        throw new ApiError(outcome.reason === 'idle' ? 'SESSION_EXPIRED' : 'UNAUTHENTICATED');
      }
      const { session } = outcome;
      const user = await deps.accounts.find(session.user.id);
      if (!user) throw new Error(`the user of session ${session.id} is missing`);
      return tokensFor(user, session, outcome.refreshToken);
    },

    /** The session a refresh token belongs to, for the CSRF check of a cookie refresh. */
    sessionOfRefreshToken: (token: string) => deps.sessions.sessionOfRefreshToken(token),

    /** Who calls with this refresh token, when its session is still alive: the caller of a logout whose access token lapsed. */
    async callerOfRefreshToken(token: string) {
      const sessionId = await deps.sessions.sessionOfRefreshToken(token);
      if (!sessionId) throw new ApiError('UNAUTHENTICATED');
      const alive = await deps.sessions.check(sessionId);
      if (!alive.ok) throw new ApiError(alive.reason === 'idle' ? 'SESSION_EXPIRED' : 'UNAUTHENTICATED');
      return { userId: alive.userId, sessionId, role: alive.role as Role };
    },

    async logout(principal: { userId: string; sessionId: string }, ctx: CallContext) {
      await deps.sessions.revoke(principal.sessionId, 'logout', principal.userId);
      await audit({ actor: `user:${principal.userId}`, action: 'auth.logout', resource: `session:${principal.sessionId}`, result: 'success', ip: ctx.ip, userAgent: ctx.userAgent });
    },

    async listSessions(principal: { userId: string; sessionId: string }) {
      const sessions = await deps.sessions.list(principal.userId);
      return sessions.map((s) => ({
        id: s.id,
        device: s.device,
        ip: s.ip,
        createdAt: s.createdAt.toISOString(),
        lastSeenAt: s.lastSeenAt.toISOString(),
        current: s.id === principal.sessionId,
      }));
    },

    async revokeSession(principal: { userId: string }, sessionId: string, ctx: CallContext) {
      if (!(await deps.sessions.revoke(sessionId, 'revoked-by-user', principal.userId))) throw new ApiError('NOT_FOUND');
      await audit({ actor: `user:${principal.userId}`, action: 'auth.session-revoke', resource: `session:${sessionId}`, result: 'success', ip: ctx.ip, userAgent: ctx.userAgent });
    },

    async requestPasswordReset(rawEmail: string, ctx: CallContext) {
      const email = normalizeEmail(rawEmail);
      // Only queued here: the worker decides which mail it is (infra/auth/password-reset.mail.ts).
      const outboxId = await deps.accounts.transaction(async (tx) => {
        await tx.audit({ actor: 'anonymous', action: 'auth.password-reset-request', resource: accountRef({ email, user: null }), result: 'queued', ip: ctx.ip, userAgent: ctx.userAgent });
        return tx.enqueueMail({ recipient: email, template: 'password-reset-request', subject: 'Password reset', body: null });
      });
      await deps.notify(outboxId);
    },

    async confirmPasswordReset(token: string, newPassword: string, ctx: CallContext) {
      const user = await deps.accounts.transaction(async (tx) => {
        const owner = await spendOneTimeToken(tx, token, 'password-reset');
        passwordProblems(newPassword, owner.email ?? '', 'newPassword');
        // Every link mailed before the change (verification or reset) dies with the old password, and
        // the link came by mail, so the address is confirmed too.
        const changed = await tx.updateUser(owner.id, { passwordHash: await deps.hasher.hash(newPassword), verifyEmail: true });
        await tx.spendTokensOf(owner.id);
        await tx.audit({ actor: `user:${owner.id}`, action: 'auth.password-reset', resource: `user:${owner.id}`, result: 'success', ip: ctx.ip, userAgent: ctx.userAgent });
        return changed;
      });
      await deps.sessions.revokeAll(user.id, 'password-reset');
      await deps.guard.clear(user.email ?? '');
    },

    /** Appends an audit event (authorization failures are written from the middleware). */
    audit: (event: AuditEvent) => audit(event),

    /** Checks an access token and its session on every authenticated request. */
    async authenticate(accessToken: string) {
      const claims = await deps.accessTokens.verify(accessToken).catch(() => {
        throw new ApiError('UNAUTHENTICATED');
      });
      const alive = await deps.sessions.check(claims.sessionId);
      if (!alive.ok) throw new ApiError(alive.reason === 'idle' ? 'SESSION_EXPIRED' : 'UNAUTHENTICATED');
      // The session decides who calls and with which role (SECURITY.md §34): a token that says
      // otherwise was minted for someone else or before a role change, and is refused.
      if (alive.userId !== claims.userId || alive.role !== claims.role) throw new ApiError('UNAUTHENTICATED');
      return claims;
    },
  };
}

export function publicUser(user: UserRecord) {
  return { id: user.id, email: user.email ?? '', name: user.name ?? '', role: user.role as Role };
}

export type AuthService = ReturnType<typeof createAuthService>;
