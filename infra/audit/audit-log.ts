import { createHmac, timingSafeEqual } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { canonicalJson } from '../../domain/canonical-json.js';
import { AuditEntry, type IAuditEntry } from '../db/entities.js';

/** Who did what to which resource, with what result. No PII: mask or hash before it gets here. */
export interface AuditEvent {
  actor: string;
  action: string;
  resource: string;
  result: string;
  ip?: string | null;
  userAgent?: string | null;
  details?: Record<string, string | number | boolean | null>;
}

export const GENESIS_MAC = '0'.repeat(64);
// Serialises appends so that every row chains to the one before it.
const APPEND_LOCK = 7_470_001;

function macOf(key: string, prevMac: string, row: Omit<IAuditEntry, 'mac' | 'prevMac'>): string {
  const body = canonicalJson({
    seq: String(row.seq),
    occurredAt: row.occurredAt.toISOString(),
    actor: row.actor,
    action: row.action,
    resource: row.resource,
    result: row.result,
    ip: row.ip ?? null,
    userAgent: row.userAgent ?? null,
    details: row.details,
  });
  return createHmac('sha256', key).update(`${prevMac}\n${body}`).digest('hex');
}

/** Appends one event inside the caller's transaction, chained to the last row by an HMAC. */
export async function appendAudit(em: EntityManager, key: string, event: AuditEvent): Promise<void> {
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
    userAgent: (event.userAgent ?? null)?.slice(0, 400) ?? null,
    details: event.details ?? {},
  };
  const prevMac = last?.mac ?? GENESIS_MAC;
  await em.insert(AuditEntry, { ...row, prevMac, mac: macOf(key, prevMac, row) });
}

export type VerifyResult = { ok: true; checked: number } | { ok: false; checked: number; seq: string; reason: string };

/** Walks the chain from the first row and reports the first row that was edited, removed or moved. */
export async function verifyAudit(em: EntityManager, key: string, batch = 1000): Promise<VerifyResult> {
  let prevMac = GENESIS_MAC;
  let checked = 0;
  let after = '0';
  for (;;) {
    const rows = await em.find(AuditEntry, { seq: { $gt: after } }, { orderBy: { seq: 'asc' }, limit: batch });
    for (const row of rows) {
      if (row.prevMac !== prevMac) return { ok: false, checked, seq: String(row.seq), reason: 'does not follow the row before it (a row was removed or moved)' };
      const expected = Buffer.from(macOf(key, prevMac, row), 'hex');
      if (!timingSafeEqual(expected, Buffer.from(row.mac, 'hex'))) {
        return { ok: false, checked, seq: String(row.seq), reason: 'its content does not match its MAC (the row was edited)' };
      }
      prevMac = row.mac;
      checked += 1;
      after = String(row.seq);
    }
    if (rows.length < batch) return { ok: true, checked };
    em.clear();
  }
}
