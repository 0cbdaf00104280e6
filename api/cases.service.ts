import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { CaseKind } from '../domain/reconciliation.js';
import type { AuditEvent } from '../domain/audit-event.js';
import type { AdminCaller } from './admin.service.js';
import { badCursor, decodeCursor, encodeCursor } from './booking-cursor.js';
import { ApiError } from './problem.js';
import type { AuditWriter } from './ports.js';

/** Operators' view of the reconciler's cases (README "The reconciler"); every call audited. */
export interface CaseServiceDeps {
  cases: CaseRecords;
  temporal: Client;
  audit: AuditWriter;
}

/** A reconciliation case as stored (infra/db/operator.store.ts). */
export interface CaseRecord {
  id: string;
  bookingId: string;
  kind: string;
  evidence: Record<string, string | number | boolean | null>;
  openedAt: Date;
  lastSeenAt: Date;
  resolvedAt: Date | null;
  resolution: string | null;
  resolvedBy: string | null;
}

/** The cases the API reads and resolves: plain records, never entities. */
export interface CaseRecords {
  /** Newest first by (opened_at, id), below `after`; `rows` at most; `cursorAt` is opened_at at Postgres's microseconds. */
  page(query: { status?: 'open' | 'resolved'; kind?: CaseKind; after?: { at: string; id: string }; rows: number }): Promise<Array<CaseRecord & { cursorAt: string }>>;
  find(caseId: string): Promise<CaseRecord | null>;
  /** The workflow id of the case's booking (its saga). */
  sagaOf(bookingId: string): Promise<string>;
  /** Marks it resolved; false when it was resolved already. */
  resolve(caseId: string, resolution: { resolvedAt: Date; resolution: string; resolvedBy: string }): Promise<boolean>;
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

const view = (row: CaseRecord) => ({
  id: row.id,
  bookingId: row.bookingId,
  // The table's check constraint holds kind to CASE_KINDS.
  kind: row.kind as CaseKind,
  evidence: row.evidence,
  openedAt: row.openedAt.toISOString(),
  lastSeenAt: row.lastSeenAt.toISOString(),
  resolvedAt: row.resolvedAt?.toISOString() ?? null,
  resolution: row.resolution,
  resolvedBy: row.resolvedBy,
});

export function createCaseService(deps: CaseServiceDeps) {
  async function audited(caller: AdminCaller, event: Pick<AuditEvent, 'action' | 'resource' | 'details'> & { result?: string }) {
    await deps.audit({ actor: `user:${caller.userId}`, result: 'success', ip: caller.ip, userAgent: caller.userAgent, ...event });
  }

  return {
    /** Cases newest first, by status and kind. */
    async list(caller: AdminCaller, query: CaseListQuery) {
      const after = query.cursor === undefined ? undefined : readCursor(query.cursor);
      const rows = await deps.cases.page({
        ...(query.status ? { status: query.status } : {}),
        ...(query.kind ? { kind: query.kind } : {}),
        ...(after ? { after } : {}),
        rows: query.limit + 1,
      });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const result = { items: page.map(view), nextCursor: rows.length > query.limit && last ? encodeCursor(`${last.cursorAt}|${last.id}`) : null };
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
      const found = UUID.test(caseId) ? await deps.cases.find(caseId) : null;
      if (!found) {
        await audited(caller, { action: 'admin.cases.resolve', resource: 'reconciliation_case', result: 'not_found', details: { undo: body.undo ?? null } });
        throw new ApiError('NOT_FOUND');
      }
      const resource = `reconciliation_case:${found.id}`;
      const refuse = async (reason: string) => {
        await audited(caller, { action: 'admin.cases.resolve', resource, result: 'refused', details: { reason, kind: found.kind, undo: body.undo ?? null } });
        throw new ApiError('CASE_NOT_RESOLVABLE', { detail: reason });
      };
      if (found.resolvedAt) return refuse('The case is resolved already.');
      if (body.undo !== undefined) {
        if (found.kind !== 'SAGA_NEEDS_ATTENTION') return refuse('Only a saga NEEDS_ATTENTION case takes an undo.');
        const workflowId = await deps.cases.sagaOf(found.bookingId);
        try {
          await deps.temporal.workflow.getHandle(workflowId).executeUpdate('resolveUndo', { args: [{ undo: body.undo }] });
        } catch (error) {
          if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError) return refuse('The saga has no stuck undo of this name.');
          throw error;
        }
      }
      const resolvedAt = new Date();
      const resolvedBy = `user:${caller.userId}`;
      if (!(await deps.cases.resolve(found.id, { resolvedAt, resolution: body.resolution, resolvedBy }))) return refuse('The case is resolved already.');
      // The resolution is an operator's free text: its length is audited, not its words.
      await audited(caller, { action: 'admin.cases.resolve', resource, details: { kind: found.kind, undo: body.undo ?? null, resolutionLength: body.resolution.length } });
      const row = await deps.cases.find(found.id);
      if (!row) throw new Error(`case ${found.id} vanished after it was resolved`);
      return view(row);
    },
  };
}
export type CaseService = ReturnType<typeof createCaseService>;
