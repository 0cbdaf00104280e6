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
      // Only the first writer wins, so concurrent requests agree on one key.
      await em.nativeUpdate(User, { id: userId, wrappedDataKey: null }, { wrappedDataKey: wrapped });
      const user = await orm.em.fork().findOneOrFail(User, { id: userId }, { fields: ['wrappedDataKey'] });
      return user.wrappedDataKey!;
    },
  };
}
