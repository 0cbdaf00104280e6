import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashOpaqueToken } from '../../infra/auth/opaque-tokens.js';
import { createSessionStore, type SessionPolicy } from '../../infra/auth/session.store.js';
import { RefreshToken, Session, User } from '../../infra/db/entities.js';
import { createRedis, redisReady, type Redis } from '../../infra/redis.js';
import { httpClient } from '../support/http-client.js';
import { signIn } from '../support/sign-in.js';
import { startStack, type Stack } from '../support/stack.js';

// SECURITY.md §34 and the revocation and refresh findings of issue 11, against the real API,
// Postgres and Redis.
let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const me = (token: string) => httpClient(stack.apiUrl).call('GET', '/api/v1/users/me', { headers: bearer(token) });
const refresh = (refreshToken: string) =>
  httpClient(stack.apiUrl).call('POST', '/api/v1/auth/refresh', { body: { refreshToken, tokenDelivery: 'body' } });
type Tokens = { accessToken: string; refreshToken: string };

describe('the session, not the token, decides who calls (SECURITY.md §34)', () => {
  it("refuses a validly signed token naming user A on user B's live session", async () => {
    const a = await signIn(stack);
    const b = await signIn(stack);
    const { token } = await stack.auth.accessTokens.issue({ userId: a.userId, sessionId: b.sessionId, role: 'user' });
    expect((await me(token)).status).toBe(401);
    // Each owner's own token still works.
    expect((await me(a.accessToken)).status).toBe(200);
    expect((await me(b.accessToken)).status).toBe(200);
  });

  it("refuses a token claiming admin on a plain user's live session", async () => {
    const user = await signIn(stack);
    const { token } = await stack.auth.accessTokens.issue({ userId: user.userId, sessionId: user.sessionId, role: 'admin' });
    const admin = await httpClient(stack.apiUrl).call('GET', '/api/v1/admin/bookings', { headers: bearer(token) });
    expect(admin.status).toBe(401);
    expect((await me(token)).status).toBe(401);
    expect((await me(user.accessToken)).status).toBe(200);
  });

  it('reads the current role from the database at each sync, so a role changed outside the admin route applies too', async () => {
    const user = await signIn(stack, { role: 'admin' });
    // A 2 s idle timeout makes the store sync every 500 ms.
    const store = createSessionStore(stack.orm, stack.redis, { maxAgeSeconds: stack.config.auth.sessionMaxAgeSeconds, idleTimeoutSeconds: 2 });
    expect(await store.check(user.sessionId)).toEqual({ ok: true, userId: user.userId, role: 'admin' });
    await stack.orm.em.fork().nativeUpdate(User, { id: user.userId }, { role: 'user' });
    await sleep(700);
    expect(await store.check(user.sessionId)).toEqual({ ok: true, userId: user.userId, role: 'user' });
    const admin = await httpClient(stack.apiUrl).call('GET', '/api/v1/admin/bookings', { headers: user.auth });
    expect(admin.status).toBe(401);
  });
});

/**
 * A Redis client whose next write of one key waits until the test lets it go: the moment a
 * request has read its session as alive and is about to stamp it. Reads (GETEX) pass.
 */
async function heldRedis(key: string) {
  const client = createRedis(stack.config.redis);
  await redisReady(client);
  let armed = false;
  let reached!: () => void;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (reached = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const redis = new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'getex') return value;
      const call = (args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(target, args);
      // Synchronous for everything else: multi() and defineCommand() do not return promises.
      return (...args: unknown[]) => {
        if (!armed || !args.includes(key)) return call(args);
        armed = false;
        reached();
        return released.then(() => call(args));
      };
    },
  }) as Redis;
  return { redis, client, held, release, arm: () => (armed = true) };
}

describe('a revocation is not undone by a request in flight', () => {
  const policy = (): SessionPolicy => ({ maxAgeSeconds: stack.config.auth.sessionMaxAgeSeconds, idleTimeoutSeconds: stack.config.auth.idleTimeoutSeconds });

  async function racedCheck(options: { idleTimeoutSeconds?: number; dropStamp: boolean }) {
    const user = await signIn(stack);
    const key = `sess:${user.sessionId}`;
    const gate = await heldRedis(key);
    const store = createSessionStore(stack.orm, gate.redis, { ...policy(), ...options });
    try {
      if (options.dropStamp) await stack.redis.del(key); // the check must go to Postgres and stamp again
      else await sleep(700); // past the store's sync interval: the check rewrites the stamp
      gate.arm();
      const inFlight = store.check(user.sessionId);
      await gate.held; // the session was read as alive; the stamp is about to be written
      expect(await stack.auth.sessions.revoke(user.sessionId, 'logout', user.userId)).toBe(true);
      gate.release();
      await inFlight;
      expect(await store.check(user.sessionId)).toMatchObject({ ok: false, reason: 'revoked' });
      expect(await stack.redis.exists(key)).toBe(0);
      expect((await me(user.accessToken)).status).toBe(401);
    } finally {
      gate.release();
      gate.client.disconnect();
    }
  }

  it('a check that read the session from Postgres before the logout cannot stamp it alive afterwards', async () => {
    await racedCheck({ dropStamp: true });
  });

  it('a check that refreshes a stamp it read before the logout cannot write it back afterwards', async () => {
    // A 2 s idle timeout makes the store sync every 500 ms, so the second check rewrites its stamp.
    await racedCheck({ dropStamp: false, idleTimeoutSeconds: 2 });
  });

  it('logout while requests with the same token are in flight leaves the token dead', async () => {
    for (let round = 0; round < 5; round += 1) {
      const user = await signIn(stack);
      const inFlight: Array<Promise<Response>> = [];
      let loggedOut = false;
      // Requests that find no stamp read Postgres and stamp again: the window a logout can fall into.
      await stack.redis.del(`sess:${user.sessionId}`);
      const logout = sleep(15).then(() => httpClient(stack.apiUrl).call('POST', '/api/v1/auth/logout', { headers: bearer(user.accessToken) }));
      void logout.finally(() => (loggedOut = true));
      while (!loggedOut && inFlight.length < 200) {
        inFlight.push(me(user.accessToken));
        if (inFlight.length % 10 === 0) await stack.redis.del(`sess:${user.sessionId}`);
        await sleep(1);
      }
      expect((await logout).status).toBe(204);
      await Promise.all(inFlight);
      expect({ round, status: (await me(user.accessToken)).status }).toEqual({ round, status: 401 });
    }
  });
});

/** A session of a fresh account with its first refresh token, as a sign-in leaves it. */
async function sessionWithRefreshToken() {
  const userId = randomUUID();
  const em = stack.orm.em.fork();
  em.create(User, { id: userId, email: `traveller-${userId}@example.test`, role: 'user', name: 'Test Traveller', emailVerifiedAt: new Date() });
  await em.flush();
  const { session, refreshToken } = await stack.auth.sessions.create(userId, 'vitest', '127.0.0.1');
  return { userId, sessionId: session.id, refreshToken };
}

const sessionRow = (id: string) => stack.orm.em.fork().findOneOrFail(Session, { id });
const GRACE_MS = 30_000;

describe('refresh tokens: two tabs refreshing at once (issue 11, small leaks)', () => {
  it('two parallel refreshes with one token both succeed, share one successor, and the session lives on', async () => {
    const { sessionId, refreshToken } = await sessionWithRefreshToken();
    const answers = await Promise.all([refresh(refreshToken), refresh(refreshToken)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    const [first, second] = (await Promise.all(answers.map((r) => r.json()))) as [Tokens, Tokens];
    // One successor, not two chains: the grace mints no extra refresh token.
    expect(second.refreshToken).toBe(first.refreshToken);
    expect((await sessionRow(sessionId)).revokedAt).toBeNull();
    expect(await stack.orm.em.fork().count(RefreshToken, { session: sessionId, spentAt: null })).toBe(1);
    expect((await me(first.accessToken)).status).toBe(200);
    expect((await me(second.accessToken)).status).toBe(200);
    expect((await refresh(first.refreshToken)).status).toBe(200);
  });

  it('a spent token replayed after the grace revokes the session', async () => {
    const { sessionId, refreshToken } = await sessionWithRefreshToken();
    const rotated = await refresh(refreshToken);
    expect(rotated.status).toBe(200);
    const next = (await rotated.json()) as Tokens;
    await stack.orm.em.fork().nativeUpdate(RefreshToken, { tokenHash: hashOpaqueToken(refreshToken) }, { spentAt: new Date(Date.now() - GRACE_MS - 1_000) });
    expect((await refresh(refreshToken)).status).toBe(401);
    expect((await sessionRow(sessionId)).revokedReason).toBe('refresh-reuse');
    expect((await me(next.accessToken)).status).toBe(401);
    expect((await refresh(next.refreshToken)).status).toBe(401);
  });

  it('a spent token that is not the latest spent revokes the session, even within the grace', async () => {
    const { sessionId, refreshToken } = await sessionWithRefreshToken();
    const second = (await (await refresh(refreshToken)).json()) as Tokens;
    const third = await refresh(second.refreshToken);
    expect(third.status).toBe(200);
    const latest = (await third.json()) as Tokens;
    expect((await refresh(refreshToken)).status).toBe(401);
    expect((await sessionRow(sessionId)).revokedReason).toBe('refresh-reuse');
    expect((await refresh(latest.refreshToken)).status).toBe(401);
  });
});
