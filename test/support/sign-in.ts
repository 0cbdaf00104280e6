import { randomUUID } from 'node:crypto';
import { User } from '../../infra/db/entities.js';
import type { Stack } from './stack.js';

export type Role = 'user' | 'support' | 'admin';

/**
 * A verified account with a live session, made with the API's own session store and token
 * issuer; for tests whose subject is not signing in. The auth tests sign in over HTTP.
 */
export async function signIn(stack: Stack, options: { role?: Role; email?: string } = {}) {
  const userId = randomUUID();
  const email = options.email ?? `traveller-${userId}@example.test`;
  const role = options.role ?? 'user';
  const em = stack.orm.em.fork();
  em.create(User, { id: userId, email, role, name: 'Test Traveller', emailVerifiedAt: new Date() });
  await em.flush();
  const { session } = await stack.auth.sessions.create(userId, 'vitest', '127.0.0.1');
  const { token } = await stack.auth.accessTokens.issue({ userId, sessionId: session.id, role });
  return { userId, email, sessionId: session.id, accessToken: token, auth: { authorization: `Bearer ${token}` } };
}
