import type { ActivityDeps } from '../activities/index.js';
import type { PaymentGateway, ProviderClient } from '../activities/booking.ports.js';
import { appendAudit } from '../infra/audit/audit-log.js';
import { createAuditMaintenance } from '../infra/audit/audit-checkpoints.js';
import type { Config } from '../infra/config.js';
import { createBookingRepository } from '../infra/db/booking.repository.js';
import { createErasureStore } from '../infra/db/erasure.store.js';
import type { Orm } from '../infra/db/orm.js';
import { createRetentionStore } from '../infra/db/retention.store.js';
import { createMailDelivery } from '../infra/mail/mail-delivery.js';

/** What every activity needs, built the same way by the worker process and by the tests. */
export function createActivityDeps(config: Config, orm: Orm, io: { providers: ReadonlyMap<string, ProviderClient>; payments: PaymentGateway }) {
  const mail = createMailDelivery(orm, config);
  const deps: ActivityDeps = {
    bookings: createBookingRepository(orm, { auditKey: config.audit.hmacKey }),
    providers: io.providers,
    payments: io.payments,
    priceTolerancePercent: config.providers.priceTolerancePercent,
    retention: createRetentionStore(orm),
    deliverMail: mail.deliver,
    erasure: createErasureStore(orm),
    audit: (event) => orm.em.fork().transactional((em) => appendAudit(em, config.audit.hmacKey, event)),
    auditMaintenance: createAuditMaintenance(orm, config.audit.hmacKey),
  };
  return { deps, close: mail.close };
}
