import type { EntityManager } from '@mikro-orm/postgresql';
import { GENESIS_MAC, brokenLink, chainRows, macsEqual } from './audit-chain.js';
import { checkpointKey, checkpointRows, signCheckpoint, type AuditCheckpoint } from './audit-checkpoints.js';

export type VerifyResult =
  | { ok: true; checked: number; checkpoints: number }
  | { ok: false; checked: number; seq: string; reason: string; checkpoint?: string };

const bySeq = (a: AuditCheckpoint, b: AuditCheckpoint) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : BigInt(a.seq) > BigInt(b.seq) ? 1 : 0);

/**
 * Checks the signed checkpoints, then walks the chain from the first row after the newest trim
 * and reports the first row that was edited, removed or moved, or the first checkpoint whose row
 * is gone (the tail was cut).
 */
export async function verifyAudit(em: EntityManager, key: string, batch = 1000): Promise<VerifyResult> {
  const signingKey = checkpointKey(key);
  let prevSignature = GENESIS_MAC;
  let coveredSeq = 0n;
  let trim: AuditCheckpoint | null = null;
  let pending: AuditCheckpoint[] = []; // checkpoints naming rows that must still be there
  let checkpoints = 0;
  for await (const c of checkpointRows(em, batch)) {
    const broken = (reason: string) => ({ ok: false as const, checked: 0, seq: c.seq, checkpoint: c.id, reason: `checkpoint ${c.id} ${reason}` });
    if (c.prevSignature !== prevSignature) return broken('does not follow the checkpoint before it (a checkpoint was removed or moved)');
    if (!macsEqual(signCheckpoint(signingKey, c), c.signature)) return broken('does not match its signature (the checkpoint was edited)');
    if (c.kind === 'trim') {
      if (BigInt(c.seq) > coveredSeq) return broken('trimmed rows no earlier checkpoint covered');
      trim = c;
      pending = pending.filter((p) => BigInt(p.seq) > BigInt(c.seq));
    } else {
      if (BigInt(c.seq) > coveredSeq) coveredSeq = BigInt(c.seq);
      if (!trim || BigInt(c.seq) > BigInt(trim.seq)) pending.push(c);
    }
    prevSignature = c.signature;
    checkpoints += 1;
  }
  pending.sort(bySeq);

  // A trimmed head is no gap: the first remaining row follows the last trimmed one.
  let prevMac = trim?.mac ?? GENESIS_MAC;
  let rowCount = BigInt(trim?.rowCount ?? 0);
  let last = trim?.seq ?? '0';
  let checked = 0;
  let next = 0;
  for await (const row of chainRows(em, last, { batch })) {
    const broken = brokenLink(key, prevMac, row);
    if (broken) return { ok: false, checked, seq: String(row.seq), reason: broken };
    prevMac = row.mac;
    rowCount += 1n;
    checked += 1;
    last = String(row.seq);
    for (; next < pending.length && BigInt(pending[next]!.seq) <= BigInt(last); next += 1) {
      const c = pending[next]!;
      if (c.seq !== last || c.mac !== row.mac || BigInt(c.rowCount) !== rowCount) {
        return { ok: false, checked, seq: last, checkpoint: c.id, reason: `checkpoint ${c.id} names seq ${c.seq} as row ${c.rowCount} of the chain, which it is not` };
      }
    }
  }
  const cut = pending[next];
  if (cut) {
    const missing = BigInt(cut.rowCount) - rowCount;
    return {
      ok: false,
      checked,
      seq: cut.seq,
      checkpoint: cut.id,
      reason: `checkpoint ${cut.id} covers the chain up to seq ${cut.seq}, but it ends at seq ${last}: ${missing} rows were removed from the tail`,
    };
  }
  return { ok: true, checked, checkpoints };
}
