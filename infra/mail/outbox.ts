import type { EntityManager } from '@mikro-orm/postgresql';
import { OutboxMessage } from '../db/entities.js';
import type { Orm } from '../db/orm.js';
import type { MailTransport } from './mail-transport.js';

export { enqueueMail, type OutgoingMail } from '../db/outbox-queue.js';

/** Writes a queued message's content inside the delivery transaction, by template. */
export type MailComposer = (em: EntityManager, recipient: string) => Promise<{ template: string; subject: string; body: string }>;

/**
 * Sends one queued message once. After an SMTP server has taken it the body, which may carry a
 * link token, is cleared; the development sink keeps it for GET /api/v1/dev/outbox.
 */
export function createOutboxDelivery(orm: Orm, transport: MailTransport, composers: Readonly<Record<string, MailComposer>> = {}) {
  return async function deliver(id: string): Promise<'sent' | 'already-sent' | 'missing'> {
    const em = orm.em.fork();
    const message = await em.findOne(OutboxMessage, { id });
    if (!message) return 'missing';
    if (message.deliveredAt) return 'already-sent';
    const compose = message.body === null ? composers[message.template] : undefined;
    if (compose) {
      // Composed once: a retry after this commit finds the body and sends it as it is.
      await em.transactional(async (tx) => {
        const written = await compose(tx, message.recipient);
        tx.assign(message, written);
      });
    }
    message.attempts += 1;
    await em.flush();
    await transport.send({ to: message.recipient, subject: message.subject, text: message.body ?? '' });
    message.deliveredAt = new Date();
    message.transport = transport.name;
    if (transport.name !== 'dev-sink') message.body = null;
    await em.flush();
    return 'sent';
  };
}

/** What the development sink holds for one address, newest first, with the links of each message. */
export async function readDevSink(orm: Orm, recipient: string, limit = 20) {
  const rows = await orm.em.fork().find(
    OutboxMessage,
    { recipient, transport: 'dev-sink', deliveredAt: { $ne: null } },
    { orderBy: { createdAt: 'desc' }, limit },
  );
  return rows.map((row) => ({
    to: row.recipient,
    subject: row.subject,
    text: row.body ?? '',
    links: (row.body ?? '').match(/https?:\/\/[^\s<>"]+/g) ?? [],
    createdAt: row.createdAt.toISOString(),
  }));
}
