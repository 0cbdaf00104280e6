import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditEvent } from '../../domain/audit-event.js';

/**
 * Writes one audit event inside the caller's transaction. The stores that audit their own changes take
 * it as a dependency; the audit log (infra/audit/audit-log.ts, auditAppender) provides it with its key.
 */
export type AppendAudit = (em: EntityManager, event: AuditEvent) => Promise<void>;
