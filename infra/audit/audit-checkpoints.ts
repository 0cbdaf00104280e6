import { createHmac, hkdfSync } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { canonicalJson } from '../../domain/canonical-json.js';
import type { Orm } from '../db/orm.js';
import { APPEND_LOCK, GENESIS_MAC, brokenLink, chainRows, macsEqual } from './audit-chain.js';

/*
 * The HMAC chain catches an edited, removed or moved row, but not rows cut from the end: the
 * shorter chain is still a valid chain. A checkpoint signs "the chain held row seq with this mac,
 * row_count rows from the first", so cutting rows it covers is caught; only rows appended after
 * the newest checkpoint can go unnoticed. Take one every 15 minutes (a Temporal Schedule) and
 * before each retention trim; the interval is what a tamperer can silently drop. Each checkpoint
 * also signs the one before it, so removing one from the middle shows; ship each signature to the
 * log pipeline as well, so someone removing the newest checkpoints with the tail is caught too.
 */

export type CheckpointKind = 'checkpoint' | 'trim';

export interface AuditCheckpoint {
  id: string;
  kind: CheckpointKind;
  seq: string;
  mac: string;
  rowCount: string;
  createdAt: Date;
  prevSignature: string;
  signature: string;
}

/** What a checkpoint or trim leaves behind, as plain JSON (activity results). */
export interface CheckpointSummary {
  id: string;
  seq: string;
  rowCount: string;
  createdAt: string;
  signature: string;
}

/** The chain is broken, or nothing covers what a trim would remove. */
export class AuditIntegrityError extends Error {
  constructor(
    readonly code: 'AUDIT_CHAIN_BROKEN' | 'AUDIT_NOT_CHECKPOINTED',
    message: string,
    readonly seq?: string,
  ) {
    super(message);
    this.name = 'AuditIntegrityError';
  }
}

// A key of its own, so a checkpoint signature can never pass for a row MAC or the reverse.
const CHECKPOINT_KEY_INFO = 'travelconnect audit-checkpoint v1';

export function checkpointKey(auditKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', auditKey, '', CHECKPOINT_KEY_INFO, 32));
}

export function signCheckpoint(key: Buffer, c: Omit<AuditCheckpoint, 'id' | 'signature'>): string {
  const body = canonicalJson({
    kind: c.kind,
    seq: c.seq,
    mac: c.mac,
    rowCount: c.rowCount,
    createdAt: c.createdAt.toISOString(),
    prevSignature: c.prevSignature,
  });
  return createHmac('sha256', key).update(body).digest('hex');
}

// Raw queries hand timestamps back as text: ask for the ISO form the signature covers.
const COLUMNS = `id::text as id, kind, seq::text as seq, mac, row_count::text as "rowCount",
  to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "createdAt", prev_signature as "prevSignature", signature`;
const asCheckpoint = (row: Omit<AuditCheckpoint, 'createdAt'> & { createdAt: string }): AuditCheckpoint => ({ ...row, createdAt: new Date(row.createdAt) });
type Row = Parameters<typeof asCheckpoint>[0];

/** Every checkpoint and trim marker, oldest first, a batch at a time. */
export async function* checkpointRows(em: EntityManager, batch = 1000): AsyncGenerator<AuditCheckpoint> {
  let after = '0';
  for (;;) {
    const rows = await em.execute<Row[]>(`select ${COLUMNS} from audit_checkpoints where id > ? order by id limit ?`, [after, batch]);
    for (const row of rows) {
      yield asCheckpoint(row);
      after = row.id;
    }
    if (rows.length < batch) return;
  }
}

async function newest(em: EntityManager, kind?: CheckpointKind): Promise<AuditCheckpoint | null> {
  const [row] = kind
    ? await em.execute<Row[]>(`select ${COLUMNS} from audit_checkpoints where kind = ? order by id desc limit 1`, [kind])
    : await em.execute<Row[]>(`select ${COLUMNS} from audit_checkpoints order by id desc limit 1`);
  return row ? asCheckpoint(row) : null;
}

/** The newest trim marker: where the chain now starts. */
export const latestTrim = (em: EntityManager) => newest(em, 'trim');

async function insertSigned(em: EntityManager, key: string, fields: Omit<AuditCheckpoint, 'id' | 'signature'>): Promise<CheckpointSummary> {
  const signature = signCheckpoint(checkpointKey(key), fields);
  const [row] = await em.execute<Array<{ id: string }>>(
    `insert into audit_checkpoints (kind, seq, mac, row_count, created_at, prev_signature, signature)
     values (?, ?, ?, ?, ?, ?, ?) returning id::text as id`,
    [fields.kind, fields.seq, fields.mac, fields.rowCount, fields.createdAt, fields.prevSignature, signature],
  );
  return { id: row!.id, seq: fields.seq, rowCount: fields.rowCount, createdAt: fields.createdAt.toISOString(), signature };
}

/**
 * Signs the chain as it stands, after checking the rows since the previous checkpoint follow it:
 * a checkpoint never vouches for a broken chain. Null while the log has never held a row.
 */
export async function createAuditCheckpoint(em: EntityManager, key: string): Promise<CheckpointSummary | null> {
  return em.transactional(async (tx) => {
    await tx.execute('select pg_advisory_xact_lock(?)', [APPEND_LOCK]);
    const base = await newest(tx);
    if (base?.kind === 'checkpoint') {
      const [row] = await tx.execute<Array<{ mac: string }>>('select mac from audit_log where seq = ?', [base.seq]);
      if (row?.mac !== base.mac) throw new AuditIntegrityError('AUDIT_CHAIN_BROKEN', `checkpoint ${base.id} names seq ${base.seq}, which the log no longer holds`, base.seq);
    }
    let head = base ? { seq: base.seq, mac: base.mac } : null;
    let rowCount = BigInt(base?.rowCount ?? 0);
    for await (const row of chainRows(tx, base?.seq ?? '0')) {
      const broken = brokenLink(key, head?.mac ?? GENESIS_MAC, row);
      if (broken) throw new AuditIntegrityError('AUDIT_CHAIN_BROKEN', `seq ${row.seq} ${broken}`, String(row.seq));
      head = { seq: String(row.seq), mac: row.mac };
      rowCount += 1n;
    }
    if (!head) return null;
    return insertSigned(tx, key, {
      kind: 'checkpoint',
      ...head,
      rowCount: String(rowCount),
      createdAt: new Date(),
      prevSignature: base?.signature ?? GENESIS_MAC,
    });
  });
}

/**
 * Removes up to maxRows rows older than `before` from the head of the chain, never past the newest
 * checkpoint, leaving a signed trim marker that verifyAudit starts from. The rows go through
 * audit_log_trim (migration 0006), which re-checks all of this and whether `before` is past
 * retention; rows whose chain is broken are refused rather than erased. Call it again while it
 * returns maxRows.
 */
export async function trimAudit(em: EntityManager, key: string, before: Date, maxRows: number): Promise<{ trimmed: number; throughSeq: string | null }> {
  if (!Number.isInteger(maxRows) || maxRows < 1) throw new RangeError(`maxRows must be a positive integer, not ${maxRows}`);
  return em.transactional(async (tx) => {
    await tx.execute('select pg_advisory_xact_lock(?)', [APPEND_LOCK]);
    const covering = await newest(tx, 'checkpoint');
    if (!covering) throw new AuditIntegrityError('AUDIT_NOT_CHECKPOINTED', 'no checkpoint covers the audit log: take one before trimming');
    if (!macsEqual(signCheckpoint(checkpointKey(key), covering), covering.signature)) {
      throw new AuditIntegrityError('AUDIT_CHAIN_BROKEN', `checkpoint ${covering.id} does not match its signature`, covering.seq);
    }
    const trim = await latestTrim(tx);
    let mac = trim?.mac ?? GENESIS_MAC;
    let rowCount = BigInt(trim?.rowCount ?? 0);
    let trimmed = 0;
    let throughSeq: string | null = null;
    for await (const row of chainRows(tx, trim?.seq ?? '0', { upTo: covering.seq, batch: Math.min(maxRows, 1000) })) {
      if (trimmed >= maxRows || row.occurredAt >= before) break;
      const broken = brokenLink(key, mac, row);
      if (broken) throw new AuditIntegrityError('AUDIT_CHAIN_BROKEN', `seq ${row.seq} ${broken}`, String(row.seq));
      mac = row.mac;
      rowCount += 1n;
      trimmed += 1;
      throughSeq = String(row.seq);
    }
    if (!throughSeq) return { trimmed: 0, throughSeq };
    const last = (await newest(tx))!;
    await insertSigned(tx, key, { kind: 'trim', seq: throughSeq, mac, rowCount: String(rowCount), createdAt: new Date(), prevSignature: last.signature });
    const [result] = await tx.execute<Array<{ deleted: number }>>('select audit_log_trim(?::timestamptz, ?::integer) as deleted', [before, maxRows]);
    // The function deletes everything up to the marker; anything else means the two disagree.
    if (result?.deleted !== trimmed) throw new Error(`audit_log_trim removed ${result?.deleted} rows where ${trimmed} were planned`);
    return { trimmed, throughSeq };
  });
}

/** Checkpoint and trim as activities want them: a unit of work each, JSON in and out. */
export function createAuditMaintenance(orm: Orm, key: string) {
  return {
    checkpoint: () => createAuditCheckpoint(orm.em.fork(), key),
    trim: (beforeIso: string, maxRows: number) => trimAudit(orm.em.fork(), key, new Date(beforeIso), maxRows),
  };
}
