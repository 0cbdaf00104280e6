/** Delivers queued mail; the outbox row id is all that crosses Temporal, never an address or a token. */
export interface NotificationDeps {
  deliverMail: (outboxId: string) => Promise<'sent' | 'already-sent' | 'missing'>;
}

export function createNotificationActivities(deps: NotificationDeps) {
  return {
    async deliverNotification(outboxId: string): Promise<string> {
      return deps.deliverMail(outboxId);
    },
  };
}
