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
    async deleteWebhookEventsBefore(cutoff, limit) {
      const rows = await orm.em.getConnection().execute<Array<{ id: string }>>(
        'delete from webhook_events where id in (select id from webhook_events where received_at < ? limit ?) returning id',
        [cutoff, limit],
      );
      return rows.length;
    },
  };
}
