import type { AuditEvent } from '../../domain/audit-event.js';
import type { AppendAudit } from './append-audit.js';
import { bookingRecord } from './booking-records.store.js';
import { AuditEntry, Booking, Session, User, type IUser } from './entities.js';
import type { Orm } from './orm.js';

/** The entity as the plain record the API reads. */
export function userRecord(user: IUser) {
  return {
    id: user.id,
    email: user.email ?? null,
    name: user.name ?? null,
    phone: user.phone ?? null,
    role: user.role,
    passwordHash: user.passwordHash ?? null,
    emailVerifiedAt: user.emailVerifiedAt ?? null,
    deletionRequestedAt: user.deletionRequestedAt ?? null,
    createdAt: user.createdAt,
  };
}

/** The users' rows the API reads and changes (api/users.service.ts's UserRecords); audited changes in one transaction. */
export function createUsersStore(orm: Orm, options: { audit: AppendAudit }) {
  return {
    async find(userId: string) {
      const user = await orm.em.fork().findOne(User, { id: userId });
      return user ? userRecord(user) : null;
    },

    async updateProfile(userId: string, patch: { name?: string; phone?: string | null }) {
      const em = orm.em.fork();
      const user = await em.findOne(User, { id: userId });
      if (!user) return null;
      if (patch.name !== undefined) user.name = patch.name;
      if (patch.phone !== undefined) user.phone = patch.phone;
      await em.flush();
      return userRecord(user);
    },

    async requestDeletion(userId: string, requestedAt: Date, audit: AuditEvent) {
      return orm.em.fork().transactional(async (tx) => {
        const user = await tx.findOneOrFail(User, { id: userId });
        user.deletionRequestedAt ??= requestedAt;
        await tx.flush();
        await options.audit(tx, audit);
        return user.deletionRequestedAt;
      });
    },

    async restore(userId: string, audit: AuditEvent) {
      await orm.em.fork().transactional(async (tx) => {
        await tx.nativeUpdate(User, { id: userId }, { deletionRequestedAt: null });
        await options.audit(tx, audit);
      });
    },

    async dataOf(userId: string, auditPageSize: number) {
      const em = orm.em.fork();
      const user = await em.findOne(User, { id: userId });
      if (!user) return null;
      const bookings = await em.find(Booking, { user: userId }, { populate: ['items', 'payments'], orderBy: { createdAt: 'asc' } });
      const sessions = await em.find(Session, { user: userId }, { orderBy: { createdAt: 'asc' } });
      // Keyset pages by seq: no row skipped or repeated while others are appended, and no entity kept.
      // Rows the user acted in or that are about the user, and the trail of each of the user's bookings.
      const who = `user:${userId}`;
      const about = [who, ...bookings.map((b) => `booking:${b.id}`)];
      const auditRows: Array<{ occurredAt: Date; actor: string; action: string; resource: string; result: string; ip: string | null }> = [];
      for (let after = '0'; ; ) {
        const page = await em.find(
          AuditEntry,
          { $or: [{ actor: who }, { resource: { $in: about } }], seq: { $gt: after } },
          { orderBy: { seq: 'asc' }, limit: auditPageSize, fields: ['seq', 'occurredAt', 'actor', 'action', 'resource', 'result', 'ip'], disableIdentityMap: true },
        );
        for (const row of page) auditRows.push({ occurredAt: row.occurredAt, actor: row.actor, action: row.action, resource: row.resource, result: row.result, ip: row.ip ?? null });
        if (page.length < auditPageSize) break;
        after = page.at(-1)!.seq;
      }
      return {
        user: userRecord(user),
        bookings: bookings.map(bookingRecord),
        sessions: sessions.map((s) => ({ id: s.id, device: s.device, ip: s.ip, createdAt: s.createdAt, lastSeenAt: s.lastSeenAt, revokedAt: s.revokedAt ?? null })),
        auditRows,
      };
    },

    async changeRole(userId: string, role: string, audit: (previousRole: string) => AuditEvent) {
      return orm.em.fork().transactional(async (tx) => {
        const user = await tx.findOne(User, { id: userId });
        if (!user) return null;
        const before = user.role;
        user.role = role;
        await options.audit(tx, audit(before));
        return before;
      });
    },
  };
}
