import { randomUUID } from 'node:crypto';
import { LockMode, type EntityManager } from '@mikro-orm/postgresql';
import { RefreshToken, Session, type ISession } from '../db/entities.js';
import type { Orm } from '../db/orm.js';
import type { Redis } from '../redis.js';
import { hashOpaqueToken, newOpaqueToken } from './opaque-tokens.js';

export interface SessionPolicy {
  /** Absolute lifetime of a session and of every refresh token in it. */
  maxAgeSeconds: number;
  /** Inactivity that ends a session. */
  idleTimeoutSeconds: number;
}

export type RevokeReason = 'logout' | 'revoked-by-user' | 'password-reset' | 'refresh-reuse' | 'idle' | 'account-deleted';

export type SessionCheck = { ok: true } | { ok: false; reason: 'revoked' | 'expired' | 'idle' };

export type RefreshOutcome =
  | { ok: true; session: ISession; refreshToken: string }
  | { ok: false; reason: 'unknown' | 'reused' | 'expired' | 'idle' };

/**
 * Sessions: Postgres holds the truth (who, which device, revoked or not), Redis an activity stamp
 * that every authenticated request slides forward. A stamp missing from Redis (idle, or Redis
 * restarted) sends the check to Postgres, whose `last_seen_at` is refreshed every quarter of the
 * idle timeout (at most once a minute), so a session ends within that much of its exact idle limit.
 */
export function createSessionStore(orm: Orm, redis: Redis, policy: SessionPolicy) {
  const idleMs = policy.idleTimeoutSeconds * 1000;
  const syncEveryMs = Math.min(60_000, idleMs / 4);
  const stampKey = (sessionId: string) => `sess:${sessionId}`;

  // The stamp holds when Postgres last heard of the session and when the session must end.
  async function stamp(sessionId: string, syncedAt: number, expiresAt: number) {
    await redis.set(stampKey(sessionId), `${syncedAt}:${expiresAt}`, 'PX', idleMs);
  }

  async function issueRefreshToken(em: EntityManager, session: ISession): Promise<string> {
    const token = newOpaqueToken();
    em.create(RefreshToken, { tokenHash: hashOpaqueToken(token), session, expiresAt: session.expiresAt });
    await em.flush();
    return token;
  }

  async function revokeWhere(em: EntityManager, where: object, reason: RevokeReason): Promise<string[]> {
    const sessions = await em.find(Session, { ...where, revokedAt: null }, { fields: ['id'] });
    if (sessions.length === 0) return [];
    const ids = sessions.map((s) => s.id);
    await em.nativeUpdate(Session, { id: { $in: ids }, revokedAt: null }, { revokedAt: new Date(), revokedReason: reason });
    // After the commit-visible update, so a request that misses the stamp reads the revocation.
    await redis.del(...ids.map(stampKey));
    return ids;
  }

  /** Is this session alive? Slides its inactivity window when it is. */
  async function check(sessionId: string): Promise<SessionCheck> {
    const now = Date.now();
    const stamped = await redis.getex(stampKey(sessionId), 'PX', idleMs);
    if (stamped !== null) {
      const [syncedAt, expiresAt] = stamped.split(':').map(Number) as [number, number];
      if (expiresAt <= now) return { ok: false, reason: 'expired' };
      if (now - syncedAt >= syncEveryMs) {
        await orm.em.fork().nativeUpdate(Session, { id: sessionId }, { lastSeenAt: new Date(now) });
        await stamp(sessionId, now, expiresAt);
      }
      return { ok: true };
    }
    const em = orm.em.fork();
    const session = await em.findOne(Session, { id: sessionId });
    if (!session || session.revokedAt) return { ok: false, reason: 'revoked' };
    if (session.expiresAt.getTime() <= now) return { ok: false, reason: 'expired' };
    if (now - session.lastSeenAt.getTime() >= idleMs) {
      await revokeWhere(em, { id: sessionId }, 'idle');
      return { ok: false, reason: 'idle' };
    }
    await em.nativeUpdate(Session, { id: sessionId }, { lastSeenAt: new Date(now) });
    await stamp(sessionId, now, session.expiresAt.getTime());
    return { ok: true };
  }

  return {
    /** A new session (a new id at every login) and its first refresh token. */
    async create(userId: string, device: string, ip: string) {
      const em = orm.em.fork();
      const session = em.create(Session, {
        id: randomUUID(),
        user: userId,
        expiresAt: new Date(Date.now() + policy.maxAgeSeconds * 1000),
        device: device.slice(0, 200),
        ip: ip.slice(0, 64),
      });
      const refreshToken = await issueRefreshToken(em, session);
      await stamp(session.id, Date.now(), session.expiresAt.getTime());
      return { session, refreshToken };
    },

    check,

    /**
     * Spends a refresh token for a new one. A token already spent means it was copied: the
     * whole session is revoked, and the thief and the owner both sign in again.
     */
    async rotate(token: string): Promise<RefreshOutcome> {
      const tokenHash = hashOpaqueToken(token);
      const found = await orm.em.fork().findOne(RefreshToken, { tokenHash }, { fields: ['session'] });
      if (!found) return { ok: false, reason: 'unknown' };
      const sessionId = found.session.id;
      // An idle or revoked session is not revived by its refresh token.
      const alive = await check(sessionId);
      if (!alive.ok) return { ok: false, reason: alive.reason === 'revoked' ? 'unknown' : alive.reason };
      const outcome = await orm.em.fork().transactional(async (em): Promise<RefreshOutcome> => {
        // Locked, so two refreshes with one token cannot both win.
        const row = await em.findOneOrFail(RefreshToken, { tokenHash }, { populate: ['session'], lockMode: LockMode.PESSIMISTIC_WRITE });
        if (row.spentAt) return { ok: false, reason: 'reused' };
        if (row.expiresAt.getTime() <= Date.now()) return { ok: false, reason: 'expired' };
        row.spentAt = new Date();
        return { ok: true, session: row.session, refreshToken: await issueRefreshToken(em, row.session) };
      });
      if (!outcome.ok && outcome.reason === 'reused') await revokeWhere(orm.em.fork(), { id: sessionId }, 'refresh-reuse');
      return outcome;
    },

    /** The session a refresh token belongs to (spent or not), or null. */
    async sessionOfRefreshToken(token: string): Promise<string | null> {
      const row = await orm.em.fork().findOne(RefreshToken, { tokenHash: hashOpaqueToken(token) }, { fields: ['session'] });
      return row?.session.id ?? null;
    },

    async revoke(sessionId: string, reason: RevokeReason, userId?: string): Promise<boolean> {
      const where = userId ? { id: sessionId, user: userId } : { id: sessionId };
      return (await revokeWhere(orm.em.fork(), where, reason)).length > 0;
    },

    async revokeAll(userId: string, reason: RevokeReason): Promise<string[]> {
      return revokeWhere(orm.em.fork(), { user: userId }, reason);
    },

    /** The user's live sessions, newest first. */
    async list(userId: string): Promise<ISession[]> {
      return orm.em.fork().find(
        Session,
        { user: userId, revokedAt: null, expiresAt: { $gt: new Date() } },
        { orderBy: { createdAt: 'desc' } },
      );
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
