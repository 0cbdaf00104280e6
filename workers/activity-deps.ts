import type { ActivityDeps } from '../activities/index.js';
import type { PaymentGateway, ProviderClient } from '../activities/booking.ports.js';
import type { SagaInspector } from '../activities/reconciliation.ports.js';
import type { WorkflowStarter } from '../activities/stalled-work.activities.js';
import { appendAudit, auditAppender } from '../infra/audit/audit-log.js';
import { createAuditMaintenance } from '../infra/audit/audit-checkpoints.js';
import type { Config } from '../infra/config.js';
import { createFieldCipher, type KeyService } from '../infra/crypto/field-cipher.js';
import { createBookingRepository } from '../infra/db/booking.repository.js';
import { createDataKeyStore } from '../infra/db/data-key.store.js';
import { createErasureStore } from '../infra/db/erasure.store.js';
import type { Orm } from '../infra/db/orm.js';
import { createRetentionStore } from '../infra/db/retention.store.js';
import { createStalledWorkStore } from '../infra/db/stalled-work.store.js';
import { createReconciliationStore } from '../infra/db/reconciliation.store.js';
import { createStripeClient } from '../infra/stripe/stripe.gateway.js';
import { createPaymentLedger } from '../infra/stripe/payment-ledger.js';
import { createMailDelivery } from '../infra/mail/mail-delivery.js';
import { createLogger, type Logger } from '../infra/logger.js';

/**
 * What every activity needs, built the same way by the worker process and by the tests.
 * `keys` unwraps the users' data keys (the caller's KMS client, which it also destroys); `log`
 * receives what a failing activity keeps out of Temporal (a logger of the worker's own by default).
 */
export function createActivityDeps(
  config: Config,
  orm: Orm,
  io: { providers: ReadonlyMap<string, ProviderClient>; payments: PaymentGateway; workflows: WorkflowStarter & Partial<SagaInspector>; keys: KeyService; log?: Logger },
) {
  const mail = createMailDelivery(orm, config);
  const cipher = createFieldCipher({ keys: io.keys, store: createDataKeyStore(orm) });
  const erasure = createErasureStore(orm);
  const deps: ActivityDeps = {
    bookings: createBookingRepository(orm, { audit: auditAppender(config.audit.hmacKey) }),
    providers: io.providers,
    payments: io.payments,
    priceTolerancePercent: config.providers.priceTolerancePercent,
    cipher,
    retention: createRetentionStore(orm),
    deliverMail: mail.deliver,
    erasure: {
      async eraseAccount(userId) {
        const outcome = await erasure.eraseAccount(userId);
        // The destroyed key must not live on in this process's cache.
        cipher.forget(userId);
        return outcome;
      },
    },
    audit: (event) => orm.em.fork().transactional((em) => appendAudit(em, config.audit.hmacKey, event)),
    auditMaintenance: createAuditMaintenance(orm, config.audit.hmacKey),
    stalledWork: createStalledWorkStore(orm, { audit: auditAppender(config.audit.hmacKey) }),
    workflows: io.workflows,
    reconciliation: createReconciliationStore(orm, { audit: auditAppender(config.audit.hmacKey) }),
    ledger: createPaymentLedger(createStripeClient(config.stripe)),
    // createWorkflowStarter answers both; a hand-made starter (a test's) has no Temporal client to ask.
    sagas: {
      inspectSaga: (workflowId) =>
        io.workflows.inspectSaga ? io.workflows.inspectSaga(workflowId) : Promise.reject(new Error('no Temporal client to inspect sagas with')),
      inspectExecution: (workflowId) =>
        io.workflows.inspectExecution ? io.workflows.inspectExecution(workflowId) : Promise.reject(new Error('no Temporal client to inspect workflows with')),
    },
    log: io.log ?? createLogger(config, 'worker'),
  };
  return { deps, close: mail.close };
}
