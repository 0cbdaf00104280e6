import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditEvent } from '../../domain/audit-event.js';
import type { AppendAudit } from '../db/append-audit.js';
import { AuditEntry } from '../db/entities.js';
import type { Orm } from '../db/orm.js';
import { boundedAuditEvent } from './audit-bounds.js';
import { APPEND_LOCK, GENESIS_MAC, rowMac } from './audit-chain.js';
import { latestTrim } from './audit-checkpoints.js';

export { GENESIS_MAC } from './audit-chain.js';
export { verifyAudit, type VerifyResult } from './audit-verifier.js';

export type { AuditEvent } from '../../domain/audit-event.js';

/**
 * Appends one event inside the caller's transaction, chained to the last row by an HMAC. Values
 * too long (or unstorable) for their column are cut with a marker, never refused (audit-bounds.ts).
 */
export async function appendAudit(em: EntityManager, key: string, input: AuditEvent): Promise<void> {
  const event = boundedAuditEvent(input);
  await em.execute('select pg_advisory_xact_lock(?)', [APPEND_LOCK]);
  const last = await em.findOne(AuditEntry, { seq: { $gt: '0' } }, { orderBy: { seq: 'desc' }, fields: ['mac'] });
  const [next] = await em.execute<Array<{ seq: string }>>("select nextval('audit_log_seq_seq')::text as seq");
  const row = {
    seq: next!.seq,
    occurredAt: new Date(),
    actor: event.actor,
    action: event.action,
    resource: event.resource,
    result: event.result,
    ip: event.ip ?? null,
    userAgent: event.userAgent ?? null,
    details: event.details ?? {},
  };
  // An empty log was trimmed (or is new): the next row chains to the last trimmed one.
  const prevMac = last?.mac ?? (await latestTrim(em))?.mac ?? GENESIS_MAC;
  await em.insert(AuditEntry, { ...row, prevMac, mac: rowMac(key, prevMac, row) });
}

/** appendAudit under its key, for the stores that audit their own changes (infra/db's AppendAudit). */
export function auditAppender(key: string): AppendAudit {
  return (em, event) => appendAudit(em, key, event);
}

/** Appends each event in a transaction of its own: what the API's services audit their reads and refusals with. */
export function createAuditWriter(orm: Orm, key: string): (event: AuditEvent) => Promise<void> {
  return (event) => orm.em.fork().transactional((em) => appendAudit(em, key, event));
}
