import type { Client } from '@temporalio/client';
import type { AuditEvent } from '../domain/audit-event.js';
import type { DeviceCookies } from '../infra/auth/device-cookie.js';
import { mask, type FieldCipher } from '../infra/crypto/field-cipher.js';
import type { SessionStore } from '../infra/auth/session.store.js';
import type { BookingRecord } from './booking-records.js';
import type { Role } from './env.js';
import type { PasswordCheck } from './password-check.js';
import { ApiError } from './problem.js';
import type { AuditWriter } from './ports.js';

/** Profiles (docs/api.md "Users") and role changes by admins. */
/** A user as stored: the phone is ciphertext, the password its argon2id hash. */
export interface UserRecord {
  id: string;
  email: string | null;
  name: string | null;
  phone: string | null;
  role: string;
  passwordHash: string | null;
  emailVerifiedAt: Date | null;
  deletionRequestedAt: Date | null;
  createdAt: Date;
}

/** Everything held about a user, as stored (ciphertext and all), for the data export. */
export interface UserData {
  user: UserRecord;
  bookings: BookingRecord[];
  sessions: Array<{ id: string; device: string; ip: string; createdAt: Date; lastSeenAt: Date; revokedAt: Date | null }>;
  /** Rows the user acted in or that are about the user or one of their bookings, oldest first. */
  auditRows: Array<{ occurredAt: Date; actor: string; action: string; resource: string; result: string; ip: string | null }>;
}

/** The users' rows the API reads and changes (infra/db/users.store.ts): plain records, never entities. */
export interface UserRecords {
  find(userId: string): Promise<UserRecord | null>;
  /** Name and phone (ciphertext, or null to remove it); the user as changed, or null when there is none. */
  updateProfile(userId: string, patch: { name?: string; phone?: string | null }): Promise<UserRecord | null>;
  /** Records the deletion request (the first one's time stays) with its audit event; when it counts from. */
  requestDeletion(userId: string, requestedAt: Date, audit: AuditEvent): Promise<Date>;
  /** Clears a pending deletion, with its audit event. */
  restore(userId: string, audit: AuditEvent): Promise<void>;
  /** Everything held about the user; the audit trail is read in keyset pages of `auditPageSize` rows. */
  dataOf(userId: string, auditPageSize: number): Promise<UserData | null>;
  /** Changes the role with the audit event `audit(previousRole)`; the previous role, or null when there is no such user. */
  changeRole(userId: string, role: Role, audit: (previousRole: string) => AuditEvent): Promise<string | null>;
}

export interface UserServiceDeps {
  users: UserRecords;
  audit: AuditWriter;
  cipher: FieldCipher;
  sessions: SessionStore;
  /** The one password check of the API: limits, lock and audit (api/password-check.ts). */
  checkPassword: PasswordCheck;
  devices: DeviceCookies;
  temporal: Client;
  taskQueue: string;
  deletionGraceMs: number;
  /** Audit rows the export reads per query; 500 unless set. */
  exportPageSize?: number;
}

export const accountDeletionWorkflowId = (userId: string) => `account-deletion-${userId}`;

export function createUserService(deps: UserServiceDeps) {
  const pageSize = deps.exportPageSize ?? 500;

  async function found(userId: string): Promise<UserRecord> {
    const user = await deps.users.find(userId);
    if (!user) throw new ApiError('NOT_FOUND');
    return user;
  }

  async function profile(user: UserRecord) {
    const phone = user.phone ? mask(await deps.cipher.decrypt(user.id, user.phone), 4) : null;
    return {
      id: user.id,
      email: user.email ?? '',
      name: user.name ?? '',
      phone,
      role: user.role as Role,
      emailVerified: user.emailVerifiedAt !== null,
      createdAt: user.createdAt.toISOString(),
    };
  }

  return {
    async me(userId: string) {
      return profile(await found(userId));
    },

    async update(userId: string, patch: { name?: string; phone?: string | null }) {
      const phone = patch.phone === undefined || patch.phone === null ? patch.phone : await deps.cipher.encrypt(userId, patch.phone);
      const user = await deps.users.updateProfile(userId, { ...(patch.name !== undefined ? { name: patch.name } : {}), ...(phone !== undefined ? { phone } : {}) });
      if (!user) throw new ApiError('NOT_FOUND');
      return profile(user);
    },

    /**
     * Right to erasure: confirmed by password, sessions revoked at once, erased after the grace
     * period by the account-deletion workflow unless the owner signs in again before then.
     */
    async requestDeletion(userId: string, password: string, ctx: { ip: string; userAgent: string; deviceCookie?: string }) {
      const user = await found(userId);
      // A stolen session must not become a password oracle: the login's limits, lock and audit apply.
      const email = user.email ?? '';
      const recognisedDevice = deps.devices.recognise(email, user.passwordHash, ctx.deviceCookie);
      const valid = await deps.checkPassword({ email, user }, password, { ...ctx, recognisedDevice, action: 'account.delete-request', actor: `user:${userId}` });
      if (!valid) throw new ApiError('INVALID_CREDENTIALS');
      const requestedAt = await deps.users.requestDeletion(userId, new Date(), {
        actor: `user:${userId}`, action: 'account.delete-request', resource: `user:${userId}`, result: 'scheduled', ip: ctx.ip, userAgent: ctx.userAgent,
      });
      await deps.sessions.revokeAll(userId, 'account-deleted');
      deps.cipher.forget(userId);
      await deps.temporal.workflow.start('accountDeletionWorkflow', {
        workflowId: accountDeletionWorkflowId(userId),
        taskQueue: deps.taskQueue,
        args: [{ userId, graceMs: deps.deletionGraceMs }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      return { deletionScheduledFor: new Date(requestedAt.getTime() + deps.deletionGraceMs).toISOString() };
    },

    /** Keeps an account whose deletion is pending: the workflow is told, the request cleared. */
    async restore(userId: string) {
      await deps.users.restore(userId, { actor: `user:${userId}`, action: 'account.restore', resource: `user:${userId}`, result: 'success' });
      await deps.temporal.workflow.getHandle(accountDeletionWorkflowId(userId)).signal('restore').catch(() => {
        // Already finished or never started: the cleared request is what counts.
      });
    },

    /** GDPR access and portability: everything held about the caller, decrypted. */
    async exportData(userId: string, ctx: { ip: string; userAgent: string }) {
      const data = await deps.users.dataOf(userId, pageSize);
      if (!data) throw new ApiError('NOT_FOUND');
      const { user, bookings, sessions } = data;
      const decrypt = (value: string) => deps.cipher.decrypt(userId, value);
      const auditEvents = data.auditRows.map((a) => ({
        occurredAt: a.occurredAt.toISOString(), action: a.action, resource: a.resource, result: a.result,
        // The address of whoever acted: the caller's own, never an operator's acting on the account.
        ip: a.actor === `user:${userId}` ? a.ip : null,
      }));
      // Everything decrypted in one answer: a stolen session's most valuable call, so it is recorded.
      const exported = {
        exportedAt: new Date().toISOString(),
        profile: {
          id: user.id,
          email: user.email,
          name: user.name,
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
          notes: b.notes,
          passengers: await Promise.all(b.passengers.map(async (p) => ({
            givenName: p.givenName,
            familyName: p.familyName,
            dateOfBirth: await decrypt(p.dateOfBirth),
            passportNumber: await decrypt(p.passportNumber),
            passportCountry: p.passportCountry,
            nationality: p.nationality,
          }))),
          items: b.items.map((i) => ({ offerId: i.offerId, provider: i.provider, state: i.state, confirmationCode: i.confirmationCode })),
          payments: b.payments.map((p) => ({ status: p.status, amountMinor: p.amountMinor, refundedMinor: p.refundedMinor, currency: p.currency })),
        }))),
        sessions: sessions.map((s) => ({ id: s.id, device: s.device, ip: s.ip, createdAt: s.createdAt.toISOString(), lastSeenAt: s.lastSeenAt.toISOString(), revokedAt: s.revokedAt?.toISOString() ?? null })),
        auditEvents,
      };
      await deps.audit({ actor: `user:${userId}`, action: 'account.export', resource: `user:${userId}`, result: 'success', ip: ctx.ip, userAgent: ctx.userAgent });
      return exported;
    },

    /** Changes a role; the target's sessions end so the new role applies at once. */
    async changeRole(actorId: string, targetId: string, role: Role, ctx: { ip: string; userAgent: string }) {
      const previous = await deps.users.changeRole(targetId, role, (before) => ({
        actor: `user:${actorId}`, action: 'admin.role-change', resource: `user:${targetId}`, result: 'success',
        ip: ctx.ip, userAgent: ctx.userAgent, details: { from: before, to: role },
      }));
      if (previous === null) throw new ApiError('NOT_FOUND');
      if (previous !== role) await deps.sessions.revokeAll(targetId, 'revoked-by-user');
      return { id: targetId, role, previousRole: previous as Role };
    },
  };
}
export type UserService = ReturnType<typeof createUserService>;
