import { UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { WebhookEvent } from './entities.js';
import type { Orm } from './orm.js';

/** Webhook deliveries already handled (api/routes/webhooks.ts's WebhookEvents): each event id acts once. */
export function createWebhookEventsStore(orm: Orm) {
  return {
    async recordOnce(event: { id: string; source: string; type: string }, act: () => Promise<void>): Promise<'recorded' | 'duplicate'> {
      try {
        await orm.em.fork().transactional(async (em) => {
          em.create(WebhookEvent, event);
          await em.flush();
          await act();
        });
        return 'recorded';
      } catch (error) {
        if (error instanceof UniqueConstraintViolationException) return 'duplicate';
        throw error;
      }
    },
  };
}
