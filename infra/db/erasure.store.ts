import type { Orm } from './orm.js';

const ERASED = 'erased';

/**
 * Erases an account (SECURITY.md §22): PII columns emptied, the wrapped data key destroyed, so
 * any ciphertext kept elsewhere (backups, workflow histories) can no longer be read. Bookings
 * keep their ids, amounts and statuses for accounting, under the now anonymous user id.
 */
export function createErasureStore(orm: Orm) {
  return {
    async eraseAccount(userId: string): Promise<{ erased: boolean; bookings: number }> {
      return orm.em.fork().transactional(async (em) => {
        const users = await em.execute<Array<{ id: string }>>(
          `update users set email = null, name = null, phone = null, password_hash = null, wrapped_data_key = null, updated_at = now()
           where id = ? and deletion_requested_at is not null returning id`,
          [userId],
        );
        if (users.length === 0) return { erased: false, bookings: 0 };
        const bookings = await em.execute<Array<{ id: string }>>(
          `update bookings set passengers = '[]'::jsonb, contact_email = ?, contact_phone = ?, notes = null, updated_at = now()
           where user_id = ? returning id`,
          [ERASED, ERASED, userId],
        );
        await em.execute('delete from one_time_tokens where user_id = ?', [userId], 'run');
        return { erased: true, bookings: bookings.length };
      });
    },
  };
}
export type ErasureStore = ReturnType<typeof createErasureStore>;
