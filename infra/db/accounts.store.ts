import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import type { AuditEvent } from '../../domain/audit-event.js';
import type { AppendAudit } from './append-audit.js';
import { OneTimeToken, User, type IUser } from './entities.js';
import type { Orm } from './orm.js';
import { enqueueMail, type OutgoingMail } from './outbox-queue.js';
import { userRecord } from './users.store.js';

type Purpose = 'verify-email' | 'password-reset';

/** One transaction's work on accounts, single-use tokens, mail and audit (api/auth.service.ts's AccountTx). */
function accountTx(em: EntityManager, audit: AppendAudit) {
  const live = (tokenHash: string, purpose: Purpose) => ({ tokenHash, purpose, usedAt: null, expiresAt: { $gt: new Date() } });
  return {
    async userByEmail(email: string) {
      const user = await em.findOne(User, { email });
      return user ? userRecord(user) : null;
    },
    createUser(user: { id: string; email: string }) {
      em.create(User, { ...user, role: 'user' });
    },
    addToken(token: { tokenHash: string; userId: string; purpose: Purpose; expiresAt: Date; pendingPasswordHash?: string; pendingName?: string }) {
      const { userId, ...rest } = token;
      em.create(OneTimeToken, { ...rest, user: userId });
    },
    async spendToken(tokenHash: string, purpose: Purpose) {
      if ((await em.nativeUpdate(OneTimeToken, live(tokenHash, purpose), { usedAt: new Date() })) !== 1) return null;
      const row = await em.findOneOrFail(OneTimeToken, { tokenHash }, { populate: ['user'] });
      return userRecord(row.user as IUser);
    },
    async spendTokensOf(userId: string) {
      await em.nativeUpdate(OneTimeToken, { user: userId, usedAt: null }, { usedAt: new Date() });
    },
    async updateUser(userId: string, changes: { passwordHash?: string | null; name?: string; phone?: string; verifyEmail?: boolean }) {
      const user = await em.findOneOrFail(User, { id: userId });
      if (changes.passwordHash !== undefined) user.passwordHash = changes.passwordHash;
      if (changes.name !== undefined) user.name = changes.name;
      if (changes.phone !== undefined) user.phone = changes.phone;
      if (changes.verifyEmail) user.emailVerifiedAt ??= new Date();
      await em.flush();
      return userRecord(user);
    },
    audit: (event: AuditEvent) => audit(em, event),
    async enqueueMail(mail: OutgoingMail) {
      const id = enqueueMail(em, mail);
      await em.flush();
      return id;
    },
  };
}

/** Accounts as the auth service reads and changes them (api/auth.service.ts's AccountRecords). */
export function createAccountsStore(orm: Orm, options: { audit: AppendAudit }) {
  return {
    async findByEmail(email: string) {
      const user = await orm.em.fork().findOne(User, { email });
      return user ? userRecord(user) : null;
    },
    async find(userId: string) {
      const user = await orm.em.fork().findOne(User, { id: userId });
      return user ? userRecord(user) : null;
    },
    /** A live single-use token, its owner and the signup credentials it carries; null for unknown, used and expired ones. */
    async liveToken(tokenHash: string, purpose: Purpose) {
      const link = await orm.em.fork().findOne(OneTimeToken, { tokenHash, purpose, usedAt: null, expiresAt: { $gt: new Date() } }, { populate: ['user'] });
      if (!link) return null;
      return {
        owner: userRecord(link.user as IUser),
        pendingPasswordHash: link.pendingPasswordHash ?? null,
        pendingName: link.pendingName ?? null,
        pendingPhone: link.pendingPhone ?? null,
      };
    },
    async setPendingPhone(tokenHash: string, phone: string) {
      await orm.em.fork().nativeUpdate(OneTimeToken, { tokenHash }, { pendingPhone: phone });
    },
    /**
     * Runs `work` in one transaction. With `againOnDuplicate`, a unique violation (two first signups of one
     * address racing on its index) runs it once more: the loser then finds the winner's row.
     */
    async transaction<T>(work: (tx: ReturnType<typeof accountTx>) => Promise<T>, opts: { againOnDuplicate?: boolean } = {}): Promise<T> {
      const run = () => orm.em.fork().transactional((em) => work(accountTx(em, options.audit)));
      if (!opts.againOnDuplicate) return run();
      return run().catch((error: unknown) => {
        if (error instanceof UniqueConstraintViolationException) return run();
        throw error;
      });
    },
  };
}
