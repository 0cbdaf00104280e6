import { appendAudit } from '../infra/audit/audit-log.js';
import { mask, type FieldCipher } from '../infra/crypto/field-cipher.js';
import { User, type IUser } from '../infra/db/entities.js';
import type { Orm } from '../infra/db/orm.js';
import type { SessionStore } from '../infra/auth/session.store.js';
import type { Role } from './auth.service.js';
import { ApiError } from './problem.js';

/** Profiles (api.md "Users") and role changes by admins. */
export function createUserService(deps: { orm: Orm; cipher: FieldCipher; sessions: SessionStore; auditKey: string }) {
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
