import { createHmac, timingSafeEqual } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { canonicalJson } from '../../domain/canonical-json.js';
import { AuditEntry, type IAuditEntry } from '../db/entities.js';

export const GENESIS_MAC = '0'.repeat(64);
// Serialises appends, checkpoints and trims so that every row chains to the one before it.
// audit_log_trim (migration 0006) takes the same lock.
export const APPEND_LOCK = 7_470_001;

export function rowMac(key: string, prevMac: string, row: Omit<IAuditEntry, 'mac' | 'prevMac'>): string {
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

export function macsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Why `row` does not follow a row whose mac is `prevMac`, or null when it does. */
export function brokenLink(key: string, prevMac: string, row: IAuditEntry): string | null {
  if (row.prevMac !== prevMac) return 'does not follow the row before it (a row was removed or moved)';
  if (!macsEqual(rowMac(key, prevMac, row), row.mac)) return 'its content does not match its MAC (the row was edited)';
  return null;
}

/** The rows after seq `after` (and up to `upTo`), in chain order, a batch at a time. */
export async function* chainRows(em: EntityManager, after: string, options: { upTo?: string; batch?: number } = {}): AsyncGenerator<IAuditEntry> {
  const batch = options.batch ?? 1000;
  for (;;) {
    const seq = options.upTo === undefined ? { $gt: after } : { $gt: after, $lte: options.upTo };
    const rows = await em.find(AuditEntry, { seq }, { orderBy: { seq: 'asc' }, limit: batch });
    for (const row of rows) {
      yield row;
      after = String(row.seq);
    }
    if (rows.length < batch) return;
    em.clear();
  }
}
