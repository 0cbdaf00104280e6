import type { Client } from '@temporalio/client';
import { appendAudit } from '../infra/audit/audit-log.js';
import type { DeviceCookies } from '../infra/auth/device-cookie.js';
import { AuditEntry, Booking, Session } from '../infra/db/entities.js';
import { mask, type FieldCipher } from '../infra/crypto/field-cipher.js';
import { User, type IUser } from '../infra/db/entities.js';
import type { Orm } from '../infra/db/orm.js';
import type { SessionStore } from '../infra/auth/session.store.js';
import type { Role } from './env.js';
import type { PasswordCheck } from './password-check.js';
import { ApiError } from './problem.js';

/** Profiles (docs/api.md "Users") and role changes by admins. */
export interface UserServiceDeps {
  orm: Orm;
  cipher: FieldCipher;
  sessions: SessionStore;
  /** The one password check of the API: limits, lock and audit (api/password-check.ts). */
  checkPassword: PasswordCheck;
  devices: DeviceCookies;
  temporal: Client;
  taskQueue: string;
  auditKey: string;
  deletionGraceMs: number;
  /** Audit rows the export reads per query; 500 unless set. */
  exportPageSize?: number;
}

export const accountDeletionWorkflowId = (userId: string) => `account-deletion-${userId}`;

export function createUserService(deps: UserServiceDeps) {
  const pageSize = deps.exportPageSize ?? 500;

  // Keyset pages by seq: no row skipped or repeated while others are appended, and no entity kept.
  // Rows the user acted in or that are about the user, and the trail of each of the user's bookings.
  async function* auditRowsOf(userId: string, bookingIds: readonly string[]) {
    const em = deps.orm.em.fork();
    const who = `user:${userId}`;
    const about = [who, ...bookingIds.map((id) => `booking:${id}`)];
    for (let after = '0'; ; ) {
      const page = await em.find(
        AuditEntry,
        { $or: [{ actor: who }, { resource: { $in: about } }], seq: { $gt: after } },
        { orderBy: { seq: 'asc' }, limit: pageSize, fields: ['seq', 'occurredAt', 'actor', 'action', 'resource', 'result', 'ip'], disableIdentityMap: true },
      );
      yield* page;
      if (page.length < pageSize) return;
      after = page.at(-1)!.seq;
    }
  }

  async function profile(user: IUser) {
    const phone = user.phone ? mask(await deps.cipher.decrypt(user.id, user.phone), 4) : null;
    return {
      id: user.id,
      email: user.email ?? '',
      name: user.name ?? '',
      phone,
      role: user.role as Role,
      emailVerified: user.emailVerifiedAt !== null && user.emailVerifiedAt !== undefined,
      createdAt: user.createdAt.toISOString(),
    };
  }

  return {
    async me(userId: string) {
      return profile(await deps.orm.em.fork().findOneOrFail(User, { id: userId }, { failHandler: () => new ApiError('NOT_FOUND') }));
    },

    async update(userId: string, patch: { name?: string; phone?: string | null }) {
      const em = deps.orm.em.fork();
      const user = await em.findOneOrFail(User, { id: userId }, { failHandler: () => new ApiError('NOT_FOUND') });
      if (patch.name !== undefined) user.name = patch.name;
      if (patch.phone !== undefined) user.phone = patch.phone === null ? null : await deps.cipher.encrypt(userId, patch.phone);
      await em.flush();
      return profile(user);
    },

    /**
     * Right to erasure: confirmed by password, sessions revoked at once, erased after the grace
     * period by the account-deletion workflow unless the owner signs in again before then.
     */
    async requestDeletion(userId: string, password: string, ctx: { ip: string; userAgent: string; deviceCookie?: string }) {
      const em = deps.orm.em.fork();
      const user = await em.findOneOrFail(User, { id: userId }, { failHandler: () => new ApiError('NOT_FOUND') });
      // A stolen session must not become a password oracle: the login's limits, lock and audit apply.
      const email = user.email ?? '';
      const recognisedDevice = deps.devices.recognise(email, user.passwordHash, ctx.deviceCookie);
      const valid = await deps.checkPassword({ email, user }, password, { ...ctx, recognisedDevice, action: 'account.delete-request', actor: `user:${userId}` });
      if (!valid) throw new ApiError('INVALID_CREDENTIALS');
      const requestedAt = new Date();
      user.deletionRequestedAt ??= requestedAt;
      await em.transactional(async (tx) => {
        await tx.flush();
        await appendAudit(tx, deps.auditKey, {
          actor: `user:${userId}`, action: 'account.delete-request', resource: `user:${userId}`, result: 'scheduled', ip: ctx.ip, userAgent: ctx.userAgent,
        });
      });
      await deps.sessions.revokeAll(userId, 'account-deleted');
      deps.cipher.forget(userId);
      await deps.temporal.workflow.start('accountDeletionWorkflow', {
        workflowId: accountDeletionWorkflowId(userId),
        taskQueue: deps.taskQueue,
        args: [{ userId, graceMs: deps.deletionGraceMs }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      return { deletionScheduledFor: new Date(user.deletionRequestedAt!.getTime() + deps.deletionGraceMs).toISOString() };
    },

    /** Keeps an account whose deletion is pending: the workflow is told, the request cleared. */
    async restore(userId: string) {
      const em = deps.orm.em.fork();
      await em.transactional(async (tx) => {
        await tx.nativeUpdate(User, { id: userId }, { deletionRequestedAt: null });
        await appendAudit(tx, deps.auditKey, { actor: `user:${userId}`, action: 'account.restore', resource: `user:${userId}`, result: 'success' });
      });
      await deps.temporal.workflow.getHandle(accountDeletionWorkflowId(userId)).signal('restore').catch(() => {
        // Already finished or never started: the cleared request is what counts.
      });
    },

    /** GDPR access and portability: everything held about the caller, decrypted. */
    async exportData(userId: string, ctx: { ip: string; userAgent: string }) {
      const em = deps.orm.em.fork();
      const user = await em.findOneOrFail(User, { id: userId }, { failHandler: () => new ApiError('NOT_FOUND') });
      const decrypt = (value: string) => deps.cipher.decrypt(userId, value);
      const bookings = await em.find(Booking, { user: userId }, { populate: ['items', 'payments'], orderBy: { createdAt: 'asc' } });
      const sessions = await em.find(Session, { user: userId }, { orderBy: { createdAt: 'asc' } });
      const auditEvents: Array<{ occurredAt: string; action: string; resource: string; result: string; ip: string | null }> = [];
      for await (const a of auditRowsOf(userId, bookings.map((b) => b.id))) {
        // The address of whoever acted: the caller's own, never an operator's acting on the account.
        const ip = a.actor === `user:${userId}` ? (a.ip ?? null) : null;
        auditEvents.push({ occurredAt: a.occurredAt.toISOString(), action: a.action, resource: a.resource, result: a.result, ip });
      }
      // Everything decrypted in one answer: a stolen session's most valuable call, so it is recorded.
      const exported = {
        exportedAt: new Date().toISOString(),
        profile: {
          id: user.id,
          email: user.email ?? null,
          name: user.name ?? null,
          phone: user.phone ? await decrypt(user.phone) : null,
          role: user.role,
          emailVerifiedAt: user.emailVerifiedAt?.toISOString() ?? null,
          createdAt: user.createdAt.toISOString(),
        },
        bookings: await Promise.all(bookings.map(async (b) => ({
          bookingId: b.id,
          status: b.status,
          totalMinor: b.totalMinor,
          currency: b.currency,
          createdAt: b.createdAt.toISOString(),
          contact: { email: b.contactEmail, phone: await decrypt(b.contactPhone).catch(() => null) },
          notes: b.notes ?? null,
          passengers: await Promise.all(b.passengers.map(async (p) => ({
            givenName: p.givenName,
            familyName: p.familyName,
            dateOfBirth: await decrypt(p.dateOfBirth),
            passportNumber: await decrypt(p.passportNumber),
            passportCountry: p.passportCountry,
            nationality: p.nationality,
          }))),
          items: b.items.getItems().map((i) => ({ offerId: i.offerId, provider: i.provider, state: i.state, confirmationCode: i.confirmationCode ?? null })),
          payments: b.payments.getItems().map((p) => ({ status: p.status, amountMinor: p.amountMinor, refundedMinor: p.refundedMinor, currency: p.currency })),
        }))),
        sessions: sessions.map((s) => ({ id: s.id, device: s.device, ip: s.ip, createdAt: s.createdAt.toISOString(), lastSeenAt: s.lastSeenAt.toISOString(), revokedAt: s.revokedAt?.toISOString() ?? null })),
        auditEvents,
      };
      await em.fork().transactional((tx) => appendAudit(tx, deps.auditKey, {
        actor: `user:${userId}`, action: 'account.export', resource: `user:${userId}`, result: 'success', ip: ctx.ip, userAgent: ctx.userAgent,
      }));
      return exported;
    },

    /** Changes a role; the target's sessions end so the new role applies at once. */
    async changeRole(actorId: string, targetId: string, role: Role, ctx: { ip: string; userAgent: string }) {
      const em = deps.orm.em.fork();
      const previous = await em.transactional(async (tx) => {
        const user = await tx.findOne(User, { id: targetId });
        if (!user) throw new ApiError('NOT_FOUND');
        const before = user.role;
        user.role = role;
        await appendAudit(tx, deps.auditKey, {
          actor: `user:${actorId}`, action: 'admin.role-change', resource: `user:${targetId}`, result: 'success',
          ip: ctx.ip, userAgent: ctx.userAgent, details: { from: before, to: role },
        });
        return before;
      });
      if (previous !== role) await deps.sessions.revokeAll(targetId, 'revoked-by-user');
      return { id: targetId, role, previousRole: previous as Role };
    },
  };
}
export type UserService = ReturnType<typeof createUserService>;
