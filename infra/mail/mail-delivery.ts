import { createPasswordResetComposer } from '../auth/password-reset.mail.js';
import type { Config } from '../config.js';
import type { Orm } from '../db/orm.js';
import { createMailTransport } from './mail-transport.js';
import { createOutboxDelivery } from './outbox.js';

/** The worker's mail delivery: the configured transport and the templates written at delivery time. */
export function createMailDelivery(orm: Orm, config: Config) {
  const transport = createMailTransport(config.mail);
  const deliver = createOutboxDelivery(orm, transport, {
    'password-reset-request': createPasswordResetComposer({ publicAppUrl: config.auth.publicAppUrl, auditKey: config.audit.hmacKey }),
  });
  return { deliver, close: () => transport.close() };
}
