import { randomUUID } from 'node:crypto';
import { LockMode, type EntityManager } from '@mikro-orm/postgresql';
import { RefreshToken, Session, User, type ISession } from '../db/entities.js';
import type { Orm } from '../db/orm.js';
import type { Redis } from '../redis.js';
import { hashOpaqueToken, newOpaqueToken } from './opaque-tokens.js';
import { openSuccessor, sealSuccessor } from './refresh-successor.js';

export interface SessionPolicy {
  /** Absolute lifetime of a session and of every refresh token in it. */
  maxAgeSeconds: number;
  /** Inactivity that ends a session. */
  idleTimeoutSeconds: number;
  /** How long a just-spent refresh token still answers with its successor (two tabs refreshing at once). */
  refreshGraceSeconds?: number;
}

export type RevokeReason = 'logout' | 'revoked-by-user' | 'password-reset' | 'refresh-reuse' | 'idle' | 'account-deleted';

/** A live session names its owner and the owner's current role: the caller is who the session says. */
/** The password a sign-in verified is no longer the account's: it changed while the sign-in ran. */
export class CredentialsChangedError extends Error {
  constructor() {
    super('the password changed during sign-in');
    this.name = 'CredentialsChangedError';
  }
}

export type SessionCheck = { ok: true; userId: string; role: string } | { ok: false; reason: 'revoked' | 'expired' | 'idle' };

export type RefreshOutcome =
  | { ok: true; session: ISession; refreshToken: string }
  | { ok: false; reason: 'unknown' | 'reused' | 'expired' | 'idle' };

// Auth0's default reuse interval: long enough for two tabs, short enough that a copied token is caught.
const DEFAULT_REFRESH_GRACE_SECONDS = 30;

// Writes the stamp only while no revocation marker exists: a request that read the session as
// alive before a logout cannot bring it back by stamping after the logout (MULTI below is atomic too).
const STAMP_UNLESS_REVOKED = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;
const STAMP_COMMAND = 'tcSessionStamp';
type StampScript = (stampKey: string, markerKey: string, value: string, ttlMs: number) => Promise<number>;

type SpentToken = { tokenHash: string; spentAt?: Date | null; successorHash?: string | null; successorSealed?: string | null };

interface Stamp {
  syncedAt: number;
  expiresAt: number;
  /** Absent in a stamp written before stamps named their owner: such a stamp is synced at once. */
  owner?: { userId: string; role: string };
}

function parseStamp(value: string | null): Stamp | null {
  if (value === null) return null;
  const [syncedAt, expiresAt, userId, role] = value.split(':');
  const stamp: Stamp = { syncedAt: Number(syncedAt), expiresAt: Number(expiresAt) };
  if (userId && role) stamp.owner = { userId, role };
  return stamp;
}

/**
 * Sessions: Postgres holds the truth (who, which device, revoked or not), Redis an activity stamp
 * that every authenticated request slides forward, holding the session's user and role. A stamp
 * missing from Redis (idle, or Redis restarted) sends the check to Postgres, whose `last_seen_at`
 * (and the user's role) is read again every quarter of the idle timeout (at most once a minute), so
 * a session ends within that much of its exact idle limit. A revocation leaves a marker in Redis
 * for the session's remaining life, and a stamp is written only while there is none.
 */
export function createSessionStore(orm: Orm, redis: Redis, policy: SessionPolicy) {
  const idleMs = policy.idleTimeoutSeconds * 1000;
  const syncEveryMs = Math.min(60_000, idleMs / 4);
  const graceMs = (policy.refreshGraceSeconds ?? DEFAULT_REFRESH_GRACE_SECONDS) * 1000;
  const stampKey = (sessionId: string) => `sess:${sessionId}`;
  const revokedKey = (sessionId: string) => `sess-revoked:${sessionId}`;
  redis.defineCommand(STAMP_COMMAND, { numberOfKeys: 2, lua: STAMP_UNLESS_REVOKED });
  // defineCommand adds the method at run time; ioredis cannot type it.
  const stampUnlessRevoked = (redis as unknown as Record<typeof STAMP_COMMAND, StampScript>)[STAMP_COMMAND].bind(redis);

  /** False when the session was revoked meanwhile: the stamp was not written. */
  async function stamp(sessionId: string, syncedAt: number, expiresAt: number, owner: { userId: string; role: string }) {
    const value = `${syncedAt}:${expiresAt}:${owner.userId}:${owner.role}`;
    return (await stampUnlessRevoked(stampKey(sessionId), revokedKey(sessionId), value, idleMs)) === 1;
  }

  async function issueRefreshToken(em: EntityManager, session: ISession): Promise<string> {
    const token = newOpaqueToken();
    em.create(RefreshToken, { tokenHash: hashOpaqueToken(token), session, expiresAt: session.expiresAt });
    await em.flush();
    return token;
  }

  async function revokeWhere(em: EntityManager, where: object, reason: RevokeReason): Promise<string[]> {
    const sessions = await em.find(Session, { ...where, revokedAt: null }, { fields: ['id', 'expiresAt'] });
    if (sessions.length === 0) return [];
    const ids = sessions.map((s) => s.id);
    await em.nativeUpdate(Session, { id: { $in: ids }, revokedAt: null }, { revokedAt: new Date(), revokedReason: reason });
    // After the commit-visible update, so a request that misses the stamp reads the revocation;
    // the marker outlives every stamp a request still in flight could try to write.
    const now = Date.now();
    const multi = redis.multi();
    for (const s of sessions) {
      multi.set(revokedKey(s.id), reason, 'PX', Math.max(1, s.expiresAt.getTime() - now));
      multi.del(stampKey(s.id));
    }
    const replies = await multi.exec();
    const failed = replies?.find(([error]) => error);
    if (!replies || failed) throw failed?.[0] ?? new Error('session revocation in Redis was aborted');
    return ids;
  }

  /** Is this session alive, and whose is it? Slides its inactivity window when it is. */
  async function check(sessionId: string): Promise<SessionCheck> {
    const now = Date.now();
    const stamped = parseStamp(await redis.getex(stampKey(sessionId), 'PX', idleMs));
    if (stamped) {
      if (stamped.expiresAt <= now) return { ok: false, reason: 'expired' };
      if (stamped.owner && now - stamped.syncedAt < syncEveryMs) return { ok: true, ...stamped.owner };
    }
    const em = orm.em.fork();
    const session = await em.findOne(Session, { id: sessionId }, { fields: ['revokedAt', 'expiresAt', 'lastSeenAt', 'user.role'] });
    if (!session || session.revokedAt) return { ok: false, reason: 'revoked' };
    if (session.expiresAt.getTime() <= now) return { ok: false, reason: 'expired' };
    // A live stamp proves recent use; without one, Postgres alone knows how long the session idled.
    if (!stamped && now - session.lastSeenAt.getTime() >= idleMs) {
      await revokeWhere(em, { id: sessionId }, 'idle');
      return { ok: false, reason: 'idle' };
    }
    await em.nativeUpdate(Session, { id: sessionId }, { lastSeenAt: new Date(now) });
    const owner = { userId: session.user.id, role: session.user.role };
    if (!(await stamp(sessionId, now, session.expiresAt.getTime(), owner))) return { ok: false, reason: 'revoked' };
    return { ok: true, ...owner };
  }

  /**
   * What a spent refresh token answers within the grace: the successor it was exchanged for, while
   * that successor is still unspent (the spent token is the latest one spent). No new refresh token.
   */
  async function graceSuccessor(em: EntityManager, spent: SpentToken, token: string) {
    if (!spent.spentAt || !spent.successorHash || !spent.successorSealed || Date.now() - spent.spentAt.getTime() > graceMs) return null;
    const successor = await em.findOne(RefreshToken, { tokenHash: spent.successorHash }, { lockMode: LockMode.PESSIMISTIC_READ });
    if (!successor || successor.spentAt) return null;
    return openSuccessor(token, spent.tokenHash, spent.successorSealed);
  }

  return {
    /** A new session (a new id at every login) and its first refresh token. */
    /**
     * `passwordHash`: the password the caller verified. The session is made only while it is still
     * the account's (read under a share lock), so a sign-in racing a password change either commits
     * first, and the change's revocation ends it, or is refused: it never outlives the old password.
     */
    async create(userId: string, device: string, ip: string, options: { passwordHash?: string | null } = {}) {
      const { session, refreshToken, role } = await orm.em.fork().transactional(async (em) => {
        const user = await em.findOneOrFail(User, { id: userId }, { fields: ['role', 'passwordHash'], lockMode: LockMode.PESSIMISTIC_READ });
        if (options.passwordHash !== undefined && user.passwordHash !== options.passwordHash) throw new CredentialsChangedError();
        const created = em.create(Session, {
          id: randomUUID(),
          user: userId,
          expiresAt: new Date(Date.now() + policy.maxAgeSeconds * 1000),
          device: device.slice(0, 200),
          ip: ip.slice(0, 64),
        });
        return { session: created, refreshToken: await issueRefreshToken(em, created), role: user.role };
      });
      await stamp(session.id, Date.now(), session.expiresAt.getTime(), { userId, role });
      return { session, refreshToken };
    },

    check,

    /**
     * Spends a refresh token for a new one. The token spent just before, presented again within
     * the grace (a second tab), gets the same successor; any other spent token means it was
     * copied: the whole session is revoked, and the thief and the owner both sign in again.
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
        // Locked, so two refreshes with one token cannot both spend it.
        const row = await em.findOneOrFail(RefreshToken, { tokenHash }, { populate: ['session'], lockMode: LockMode.PESSIMISTIC_WRITE });
        if (row.session.revokedAt) return { ok: false, reason: 'unknown' };
        if (row.spentAt) {
          const successor = await graceSuccessor(em, row, token);
          return successor ? { ok: true, session: row.session, refreshToken: successor } : { ok: false, reason: 'reused' };
        }
        if (row.expiresAt.getTime() <= Date.now()) return { ok: false, reason: 'expired' };
        const successor = await issueRefreshToken(em, row.session);
        row.spentAt = new Date();
        row.successorHash = hashOpaqueToken(successor);
        row.successorSealed = sealSuccessor(token, tokenHash, successor);
        return { ok: true, session: row.session, refreshToken: successor };
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
