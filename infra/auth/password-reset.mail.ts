import type { EntityManager } from '@mikro-orm/postgresql';
import { appendAudit } from '../audit/audit-log.js';
import { OneTimeToken, User } from '../db/entities.js';
import { hashOpaqueToken, newOpaqueToken } from './opaque-tokens.js';

const RESET_TTL_MS = 2 * 3600_000;

/**
 * Writes the password-reset mail at delivery time, in the worker. The API only queues the
 * request, so its answer does the same work, and takes the same time, whether or not the
 * address has an account (SECURITY.md §13); this decides which mail goes.
 */
export function createPasswordResetComposer(options: { publicAppUrl: string; auditKey: string }) {
  return async function composePasswordReset(em: EntityManager, recipient: string) {
    const user = await em.findOne(User, { email: recipient, deletionRequestedAt: null });
    if (!user) {
      return {
        template: 'password-reset-unknown',
        subject: 'Password reset',
        body: 'Someone asked to reset the TravelConnect password of this address, but it has no account. If it was not you, ignore this message.\n',
      };
    }
    const token = newOpaqueToken();
    em.create(OneTimeToken, { tokenHash: hashOpaqueToken(token), user, purpose: 'password-reset', expiresAt: new Date(Date.now() + RESET_TTL_MS) });
    await appendAudit(em, options.auditKey, { actor: 'system', action: 'auth.password-reset-token', resource: `user:${user.id}`, result: 'issued' });
    return {
      template: 'password-reset',
      subject: 'Reset your password',
      body: `Reset your TravelConnect password within 2 hours:\n${options.publicAppUrl}/password-reset?token=${token}\nIf you did not ask for this, ignore this message.\n`,
    };
  };
}
export type PasswordResetComposer = ReturnType<typeof createPasswordResetComposer>;
