import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { OutboxMessage } from './entities.js';

export interface OutgoingMail {
  recipient: string;
  template: 'verify-email' | 'signup-existing' | 'password-reset-request';
  subject: string;
  /** Null when a composer writes it at delivery time. */
  body: string | null;
}

/** Queues a message inside the caller's transaction; the notification workflow delivers it. */
export function enqueueMail(em: EntityManager, mail: OutgoingMail): string {
  const id = randomUUID();
  em.create(OutboxMessage, { id, ...mail });
  return id;
}
