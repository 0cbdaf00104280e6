import type { DataKeyStore } from '../crypto/field-cipher.js';
import { User } from './entities.js';
import type { Orm } from './orm.js';

/** Wrapped per-user data keys, kept on the users row. */
export function createDataKeyStore(orm: Orm): DataKeyStore {
  return {
    async load(userId) {
      const user = await orm.em.fork().findOne(User, { id: userId }, { fields: ['wrappedDataKey'] });
      return user?.wrappedDataKey ?? null;
    },
    async saveIfAbsent(userId, wrapped) {
      const em = orm.em.fork();
      await em.upsert(User, { id: userId, createdAt: new Date() }, { onConflictFields: ['id'], onConflictAction: 'ignore' });
      // Only the first writer wins, so concurrent requests agree on one key. An account whose
      // deletion was asked for never gets one: its key was (or is about to be) destroyed, and a new
      // one would let PII written after the erasure (a late retry, say) outlive it.
      await em.nativeUpdate(User, { id: userId, wrappedDataKey: null, deletionRequestedAt: null }, { wrappedDataKey: wrapped });
      const user = await orm.em.fork().findOneOrFail(User, { id: userId }, { fields: ['wrappedDataKey'] });
      return user.wrappedDataKey ?? null;
    },
  };
}
