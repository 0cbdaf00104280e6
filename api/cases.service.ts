import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { CaseKind } from '../domain/reconciliation.js';
import { appendAudit, type AuditEvent } from '../infra/audit/audit-log.js';
import { Booking, ReconciliationCase } from '../infra/db/entities.js';
import type { Orm } from '../infra/db/orm.js';
import type { AdminCaller } from './admin.service.js';
import { badCursor, decodeCursor, encodeCursor } from './booking-cursor.js';
import { ApiError } from './problem.js';

/** Operators' view of the reconciler's cases (README "The reconciler"); every call audited. */
export interface CaseServiceDeps {
  orm: Orm;
  temporal: Client;
  auditKey: string;
}

export interface CaseListQuery {
  status?: 'open' | 'resolved';
  kind?: CaseKind;
  cursor?: string;
  limit: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

// Newest first by (opened_at, id), at Postgres's microseconds (see booking-cursor.ts for why).
function readCursor(cursor: string): { at: string; id: string } {
  const [at = '', id = '', ...rest] = decodeCursor(cursor).split('|');
  if (rest.length > 0 || !UUID.test(id) || !TIMESTAMP.test(at) || Number.isNaN(Date.parse(at))) throw badCursor();
  return { at, id };
}

interface CaseRow {
  id: string;
  booking_id: string;
  kind: string;
  evidence: Record<string, string | number | boolean | null>;
  opened_at: Date;
  last_seen_at: Date;
  resolved_at: Date | null;
  resolution: string | null;
  resolved_by: string | null;
  cursor_at: string;
}

const view = (row: CaseRow) => ({
  id: row.id,
  bookingId: row.booking_id,
  // The table's check constraint holds kind to CASE_KINDS.
  kind: row.kind as CaseKind,
  evidence: row.evidence,
  openedAt: new Date(row.opened_at).toISOString(),
  lastSeenAt: new Date(row.last_seen_at).toISOString(),
  resolvedAt: row.resolved_at ? new Date(row.resolved_at).toISOString() : null,
  resolution: row.resolution,
  resolvedBy: row.resolved_by,
});

export function createCaseService(deps: CaseServiceDeps) {
  async function audited(caller: AdminCaller, event: Pick<AuditEvent, 'action' | 'resource' | 'details'> & { result?: string }) {
    await deps.orm.em.fork().transactional((tx) =>
      appendAudit(tx, deps.auditKey, { actor: `user:${caller.userId}`, result: 'success', ip: caller.ip, userAgent: caller.userAgent, ...event }),
    );
  }

  return {
    /** Cases newest first, by status and kind. */
    async list(caller: AdminCaller, query: CaseListQuery) {
      const after = query.cursor === undefined ? undefined : readCursor(query.cursor);
      const rows = await deps.orm.em.getConnection().execute<CaseRow[]>(
        `select id, booking_id, kind, evidence, opened_at, last_seen_at, resolved_at, resolution, resolved_by,
           to_char(opened_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at
         from reconciliation_cases
         where (?::text is null or (?::text = 'open') = (resolved_at is null))
           and (?::text is null or kind = ?::text)
           and (?::timestamptz is null or (opened_at, id) < (?::timestamptz, ?::uuid))
         order by opened_at desc, id desc limit ?`,
        [query.status ?? null, query.status ?? null, query.kind ?? null, query.kind ?? null, after?.at ?? null, after?.at ?? null, after?.id ?? null, query.limit + 1],
      );
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const result = { items: page.map(view), nextCursor: rows.length > query.limit && last ? encodeCursor(`${last.cursor_at}|${last.id}`) : null };
      await audited(caller, {
        action: 'admin.cases.list',
        resource: 'reconciliation_cases',
        details: { status: query.status ?? null, kind: query.kind ?? null, cursor: query.cursor ?? null, limit: query.limit, returned: result.items.length },
      });
      return result;
    },

    /**
     * Marks a case resolved. For a saga NEEDS_ATTENTION, `undo` first tells the saga that this stuck
     * undo was done by hand (its resolveUndo update; the saga refuses a name that is not stuck).
     */
    async resolve(caller: AdminCaller, caseId: string, body: { resolution: string; undo?: string }) {
      const em = deps.orm.em.fork();
      const found = UUID.test(caseId) ? await em.findOne(ReconciliationCase, { id: caseId }) : null;
      if (!found) {
        await audited(caller, { action: 'admin.cases.resolve', resource: 'reconciliation_case', result: 'not_found', details: { undo: body.undo ?? null } });
        throw new ApiError('NOT_FOUND');
      }
      const resource = `reconciliation_case:${found.id}`;
      const refuse = async (reason: string) => {
        await audited(caller, { action: 'admin.cases.resolve', resource, result: 'refused', details: { reason, kind: found.kind, undo: body.undo ?? null } });
        throw new ApiError('CASE_NOT_RESOLVABLE', reason);
      };
      if (found.resolvedAt) return refuse('The case is resolved already.');
      if (body.undo !== undefined) {
        if (found.kind !== 'SAGA_NEEDS_ATTENTION') return refuse('Only a saga NEEDS_ATTENTION case takes an undo.');
        const booking = await em.findOneOrFail(Booking, { id: found.booking.id }, { fields: ['workflowId'] });
        try {
          await deps.temporal.workflow.getHandle(booking.workflowId).executeUpdate('resolveUndo', { args: [{ undo: body.undo }] });
        } catch (error) {
          if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError) return refuse('The saga has no stuck undo of this name.');
          throw error;
        }
      }
      const resolvedAt = new Date();
      const resolvedBy = `user:${caller.userId}`;
      const changed = await em.nativeUpdate(ReconciliationCase, { id: found.id, resolvedAt: null }, { resolvedAt, resolution: body.resolution, resolvedBy });
      if (changed === 0) return refuse('The case is resolved already.');
      // The resolution is an operator's free text: its length is audited, not its words.
      await audited(caller, { action: 'admin.cases.resolve', resource, details: { kind: found.kind, undo: body.undo ?? null, resolutionLength: body.resolution.length } });
      const row = await em.fork().findOneOrFail(ReconciliationCase, { id: found.id });
      return {
        id: row.id,
        bookingId: row.booking.id,
        kind: row.kind as CaseKind,
        evidence: row.evidence,
        openedAt: row.openedAt.toISOString(),
        lastSeenAt: row.lastSeenAt.toISOString(),
        resolvedAt: row.resolvedAt?.toISOString() ?? null,
        resolution: row.resolution ?? null,
        resolvedBy: row.resolvedBy ?? null,
      };
    },
  };
}
export type CaseService = ReturnType<typeof createCaseService>;
