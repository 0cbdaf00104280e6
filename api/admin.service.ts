import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { BookingStatus } from '../domain/booking-status.js';
import { fromMinor, toMinor, type Currency, type Money } from '../domain/money.js';
import type { AuditEvent } from '../domain/audit-event.js';
import { refundWorkflow } from '../workflows/refund.workflow.js';
import { ApiError } from './problem.js';
import { badCursor, bookingCursor, decodeCursor as decode, encodeCursor as encode, readBookingCursor } from './booking-cursor.js';
import type { BookingRecords, PaymentRecord } from './booking-records.js';
import type { AuditWriter } from './ports.js';

/** Operators' read views (docs/api.md "Operators"): no PII leaves here, and every read is audited. */
/** What the operators' views read (infra/db/operator.store.ts): plain rows, never entities. */
export interface OperatorRecords {
  /** Null when there is no such booking; else its newest CAPTURED or REFUNDED payment, or null when it has none. */
  refundablePayment(bookingId: string): Promise<{ payment: PaymentRecord | null } | null>;
  /** Audit rows newest first, below seq `before`, matching each filter given exactly; `rows` at most. */
  auditRows(query: { before?: string; actor?: string; action?: string; resource?: string; from?: Date; to?: Date; rows: number }): Promise<AuditRow[]>;
}

export interface AuditRow {
  seq: string;
  occurredAt: Date;
  actor: string;
  action: string;
  resource: string;
  result: string;
  ip: string | null;
  details: Record<string, string | number | boolean | null>;
}

export interface AdminServiceDeps {
  bookings: BookingRecords;
  records: OperatorRecords;
  audit: AuditWriter;
  temporal: Client;
  taskQueue: string;
}

export interface RefundRequest {
  /** Absent: everything captured and not yet refunded. */
  amount?: Money;
  reason: string;
}

/** Who is reading, for the audit row their read leaves. */
export interface AdminCaller {
  userId: string;
  ip: string;
  userAgent: string;
}

export interface BookingListQuery {
  status?: BookingStatus;
  cursor?: string;
  limit: number;
}

export interface AuditSearchQuery {
  actor?: string;
  action?: string;
  resource?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit: number;
}

const MAX_SEQ = 2n ** 63n - 1n;

function readSeqCursor(cursor: string): string {
  const seq = decode(cursor);
  if (!/^[1-9]\d{0,18}$/.test(seq) || BigInt(seq) > MAX_SEQ) throw badCursor();
  return seq;
}

export function createAdminService(deps: AdminServiceDeps) {
  async function audited(caller: AdminCaller, event: Pick<AuditEvent, 'action' | 'resource' | 'details'> & { result?: string }) {
    await deps.audit({ actor: `user:${caller.userId}`, result: 'success', ip: caller.ip, userAgent: caller.userAgent, ...event });
  }

  /** A request already made under this key: its refund, if it asked for the same amount. */
  async function earlierRefund(refundId: string, requested: number | null) {
    const handle = deps.temporal.workflow.getHandle<typeof refundWorkflow>(refundId);
    try {
      const described = await handle.describe();
      if (described.memo?.requested !== requested) throw new ApiError('IDEMPOTENCY_KEY_REUSED');
      if (described.status.name !== 'COMPLETED') return { status: 'ACCEPTED' as const, amountMinor: requested };
      return { status: (await handle.result()).status, amountMinor: requested };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }

  async function startRefund(bookingId: string, refundId: string, requested: number | null, requestedCurrency: string | undefined) {
    const earlier = await earlierRefund(refundId, requested);
    if (earlier) return earlier;
    const found = await deps.records.refundablePayment(bookingId);
    if (!found) throw new ApiError('NOT_FOUND');
    const { payment } = found;
    if (!payment) throw new ApiError('BOOKING_NOT_REFUNDABLE');
    if (requested !== null && payment.currency !== requestedCurrency) {
      throw new ApiError('VALIDATION_FAILED', { errors: [{ path: 'amount.currency', message: `must be the booking's currency, ${payment.currency}` }] });
    }
    if (requested === 0) throw new ApiError('VALIDATION_FAILED', { errors: [{ path: 'amount.amount', message: 'must be more than zero' }] });
    const remaining = payment.amountMinor - payment.refundedMinor;
    const amountMinor = requested ?? remaining;
    if (remaining <= 0 || amountMinor > remaining) {
      throw new ApiError('REFUND_EXCEEDS_CAPTURE', { extensions: { refundable: fromMinor(Math.max(remaining, 0), payment.currency as Currency) } });
    }
    try {
      await deps.temporal.workflow.start(refundWorkflow, {
        workflowId: refundId,
        taskQueue: deps.taskQueue,
        args: [{ bookingId, paymentIntentId: payment.paymentIntentId, amountMinor }],
        memo: { bookingId, requested },
        // The same key attaches to the same refund; a run that failed may run again (the key makes
        // it recognise a refund Stripe did make), and one that completed never does.
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    return { status: 'ACCEPTED' as const, amountMinor };
  }

  return {
    /** Every user's bookings, newest first: ids, status, price and providers; no passenger or contact data. */
    async listBookings(caller: AdminCaller, query: BookingListQuery) {
      const after = query.cursor === undefined ? undefined : readBookingCursor(query.cursor);
      // One row more than the page says whether there is a next one.
      const rows = await deps.bookings.page({ ...(query.status ? { status: query.status } : {}), ...(after ? { after } : {}), rows: query.limit + 1 });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const result = {
        items: page.map((row) => ({
          bookingId: row.id,
          userId: row.userId,
          status: row.status,
          price: fromMinor(row.totalMinor, row.currency as Currency),
          providers: [...new Set(row.items.map((item) => item.provider))].sort(),
          createdAt: row.createdAt.toISOString(),
          updatedAt: row.updatedAt.toISOString(),
          ...(row.failureCode ? { failure: { code: row.failureCode } } : {}),
        })),
        nextCursor: rows.length > query.limit && last ? bookingCursor(last.cursorAt, last.id) : null,
      };
      await audited(caller, {
        action: 'admin.bookings.list',
        resource: 'bookings',
        details: { status: query.status ?? null, cursor: query.cursor ?? null, limit: query.limit, returned: result.items.length },
      });
      return result;
    },

    /**
     * Starts (or, for the same Idempotency-Key, finds) the refund workflow `refund-<booking>-<key>`;
     * answers before Stripe is called. Audited whether accepted or refused; the reason's length only.
     */
    async refundBooking(caller: AdminCaller, bookingId: string, request: RefundRequest, idempotencyKey: string) {
      const refundId = `refund-${bookingId}-${idempotencyKey}`;
      const requested = request.amount === undefined ? null : toMinor(request.amount);
      const audit = (result: string, amountMinor: number | null) =>
        audited(caller, {
          action: 'admin.booking.refund',
          resource: `booking:${bookingId}`,
          result,
          details: { refundId, amountMinor, currency: request.amount?.currency ?? null, reasonLength: request.reason.length },
        });
      try {
        const outcome = await startRefund(bookingId, refundId, requested, request.amount?.currency);
        await audit('accepted', outcome.amountMinor);
        return { refundId, status: outcome.status };
      } catch (error) {
        if (error instanceof ApiError) await audit(error.code, requested);
        throw error;
      }
    },

    /** The audit log, newest first, filtered by exact actor, action and resource and a time range [from, to). */
    async searchAudit(caller: AdminCaller, query: AuditSearchQuery) {
      const before = query.cursor === undefined ? undefined : readSeqCursor(query.cursor);
      const rows = await deps.records.auditRows({
        ...(before === undefined ? {} : { before }),
        ...(query.actor === undefined ? {} : { actor: query.actor }),
        ...(query.action === undefined ? {} : { action: query.action }),
        ...(query.resource === undefined ? {} : { resource: query.resource }),
        ...(query.from === undefined ? {} : { from: new Date(query.from) }),
        ...(query.to === undefined ? {} : { to: new Date(query.to) }),
        rows: query.limit + 1,
      });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const result = {
        items: page.map((row) => ({
          seq: row.seq,
          occurredAt: row.occurredAt.toISOString(),
          actor: row.actor,
          action: row.action,
          resource: row.resource,
          result: row.result,
          ip: row.ip,
          details: row.details,
        })),
        nextCursor: rows.length > query.limit && last ? encode(last.seq) : null,
      };
      await audited(caller, {
        action: 'admin.audit.search',
        resource: 'audit_log',
        details: {
          actor: query.actor ?? null,
          action: query.action ?? null,
          resource: query.resource ?? null,
          from: query.from ?? null,
          to: query.to ?? null,
          cursor: query.cursor ?? null,
          limit: query.limit,
          returned: result.items.length,
        },
      });
      return result;
    },
  };
}
export type AdminService = ReturnType<typeof createAdminService>;
