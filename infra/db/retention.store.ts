import type { RetentionStore } from '../../activities/retention.activities.js';
import type { Orm } from './orm.js';

const ANONYMIZED = 'anonymized';

/** RetentionStore on Postgres: batched, parameterised statements. */
export function createRetentionStore(orm: Orm): RetentionStore {
  return {
    async anonymizeBookingsBefore(cutoff, limit) {
      const rows = await orm.em.getConnection().execute<Array<{ id: string }>>(
        `update bookings set passengers = '[]'::jsonb, contact_email = ?, contact_phone = ?, notes = null, updated_at = now()
         where id in (select id from bookings where created_at < ? and contact_email <> ? order by created_at limit ?)
         returning id`,
        [ANONYMIZED, ANONYMIZED, cutoff, ANONYMIZED, limit],
      );
      return rows.length;
    },
    async deleteAuthRecordsBefore(cutoff, limit) {
      const connection = orm.em.getConnection();
      // Refresh tokens go with their session (on delete cascade).
      const statements = [
        'delete from sessions where id in (select id from sessions where coalesce(revoked_at, expires_at) < ? limit ?) returning id',
        'delete from one_time_tokens where token_hash in (select token_hash from one_time_tokens where coalesce(used_at, expires_at) < ? limit ?) returning token_hash',
        // Mail that was never delivered goes too: its links expired long before.
        'delete from outbox where id in (select id from outbox where coalesce(delivered_at, created_at) < ? limit ?) returning id',
      ];
      let deleted = 0;
      for (const sql of statements) deleted += (await connection.execute<unknown[]>(sql, [cutoff, limit])).length;
      return deleted;
    },
    async deleteWebhookEventsBefore(cutoff, limit) {
      const rows = await orm.em.getConnection().execute<Array<{ id: string }>>(
        'delete from webhook_events where id in (select id from webhook_events where received_at < ? limit ?) returning id',
        [cutoff, limit],
      );
      return rows.length;
    },
  };
}
