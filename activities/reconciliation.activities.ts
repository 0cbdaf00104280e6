import { cancellationInFlight, disagreements, sagaReleased, type ChargeView, type HoldView, type RecordView, type Repair } from '../domain/reconciliation.js';
import { cancellationWorkflowId } from '../domain/booking-ids.js';
import { holdReference } from './booking.activities.js';
import type { BookingRepository, PaymentGateway, ProviderClient } from './booking.ports.js';
import { errorLabel, type FailureLog } from './failures.js';
import type { PaymentLedger, ReconciliationStore, SagaInspector } from './reconciliation.ports.js';

export interface ReconciliationDeps {
  reconciliation: ReconciliationStore;
  ledger: PaymentLedger;
  sagas: SagaInspector;
  providers: ReadonlyMap<string, ProviderClient>;
  payments: PaymentGateway;
  bookings: BookingRepository;
  /** Appends an audit event (infra/audit) in a transaction of its own. */
  audit: (event: { actor: string; action: string; resource: string; result: string; details?: Record<string, string | number | boolean | null> }) => Promise<void>;
  /** Where a booking that could not be read is reported (the worker's log). */
  log: FailureLog;
}

export interface ReconcilePageResult {
  /** The last booking of the page; none when this was the last page. */
  next?: string;
  examined: number;
  opened: number;
  closed: number;
  repaired: number;
  /** Bookings a read failed for (Temporal, a provider or Stripe): left as they were, for the next run. */
  unreadable: number;
}

const ACTOR = 'system:reconciler';
// What a closed case says was done.
const DONE: Record<Repair['action'], string> = { 'release-hold': 'hold released', 'void-authorization': 'authorization voided', 'cancel-payment': 'payment cancelled' };

export function createReconciliationActivities(deps: ReconciliationDeps) {
  /** Does a safe repair; true when done (or nothing was left to do), false when it must wait for the next run. */
  async function repair(booking: RecordView & { id: string; workflowId: string }, fix: Repair): Promise<boolean> {
    const { id: bookingId, workflowId, payments } = booking;
    try {
      // Asked again just before: a saga that started since it was read (a retried POST) owns what it holds.
      if (!sagaReleased((await deps.sagas.inspectSaga(workflowId)).execution, booking.status)) return false;
      if (fix.action === 'release-hold') {
        const client = deps.providers.get(fix.provider);
        if (!client) return false;
        // Read again just before: only a hold still HELD is released (releaseOrCancel would cancel a ticket).
        const hold = await client.findHold(holdReference(workflowId, fix.offerId));
        if (hold?.state !== 'HELD') return hold?.state !== 'CONFIRMED';
        await client.releaseOrCancel(hold.holdId);
        await deps.bookings.updateItem(bookingId, fix.offerId, { state: 'RELEASED' });
        await deps.audit({ actor: ACTOR, action: 'reconciliation.hold_released', resource: `booking:${bookingId}`, result: 'success', details: { offerId: fix.offerId, provider: fix.provider } });
        return true;
      }
      // Cancels only what is still uncaptured (one the customer authorized meanwhile too: no saga
      // will capture it); a capture that got there first is left for an operator's refund.
      const cancelling = fix.action === 'cancel-payment';
      const key = `reconcile:${bookingId}:${cancelling ? 'cancel' : 'void'}:${fix.paymentIntentId}`;
      if ((await deps.payments.void(fix.paymentIntentId, key)) === 'captured') return false;
      const row = payments.find((p) => p.paymentIntentId === fix.paymentIntentId);
      if (row) await deps.bookings.recordPayment(bookingId, { paymentIntentId: row.paymentIntentId, status: 'VOIDED', amountMinor: row.amountMinor, currency: row.currency }, ACTOR);
      const action = cancelling ? 'reconciliation.payment_cancelled' : 'reconciliation.authorization_voided';
      await deps.audit({ actor: ACTOR, action, resource: `booking:${bookingId}`, result: 'success', details: { paymentIntentId: fix.paymentIntentId } });
      return true;
    } catch {
      // A provider or Stripe fault: the case stays open, and the next run tries again.
      return false;
    }
  }

  /**
   * What Postgres, Temporal, the providers and Stripe say about one booking; throws when one of them
   * cannot answer. None when there is nothing to compare: no such booking, or a customer's
   * cancellation still works on it (the run after it ends looks again: it writes the booking's status).
   */
  async function read(bookingId: string) {
    const record = await deps.reconciliation.load(bookingId);
    if (!record) return undefined;
    const saga = await deps.sagas.inspectSaga(record.workflowId);
    // A cancellation starts only once the saga has let go of the booking.
    if (sagaReleased(saga.execution, record.status) && cancellationInFlight(await deps.sagas.inspectExecution(cancellationWorkflowId(bookingId)))) return undefined;
    const holds: HoldView[] = await Promise.all(
      record.items.map(async ({ offerId, provider }) => {
        const hold = await deps.providers.get(provider)?.findHold(holdReference(record.workflowId, offerId));
        return { offerId, provider, ...(hold ? { hold: { holdId: hold.holdId, state: hold.state } } : {}) };
      }),
    );
    const charges = (await Promise.all(record.payments.map((p) => deps.ledger.inspect(p.paymentIntentId)))).filter((c): c is ChargeView => c !== undefined);
    return { record, saga, holds, charges };
  }

  async function reconcileBooking(bookingId: string, views: NonNullable<Awaited<ReturnType<typeof read>>>) {
    const { record } = views;
    let repaired = 0;
    const findings = [];
    for (const found of disagreements(views)) {
      let done = (found.repairs ?? []).length > 0;
      for (const fix of found.repairs ?? []) {
        const ok = await repair({ id: bookingId, ...record }, fix);
        if (ok) repaired += 1;
        done &&= ok;
      }
      const how = `repaired by the reconciler: ${[...new Set((found.repairs ?? []).map((fix) => DONE[fix.action]))].join(', ')}`;
      findings.push({ kind: found.kind, evidence: found.evidence, ...(done ? { repaired: how } : {}) });
    }
    return { ...(await deps.reconciliation.sync(bookingId, findings)), repaired };
  }

  return {
    async beginReconciliation(): Promise<{ since: string | null; startedAt: string }> {
      return deps.reconciliation.begin();
    },

    async finishReconciliation(input: { startedAt: string }): Promise<void> {
      await deps.reconciliation.finish(input.startedAt);
    },

    /** Compares and repairs one page of bookings; a page is small, so a retry redoes little (each step is idempotent). */
    async reconcilePage(input: { since: string | null; after?: string; limit: number; bookingIds?: string[] }): Promise<ReconcilePageResult> {
      const ids = await deps.reconciliation.candidates(input);
      const result: ReconcilePageResult = { examined: 0, opened: 0, closed: 0, repaired: 0, unreadable: 0 };
      for (const id of ids) {
        let views;
        try {
          views = await read(id);
        } catch (error) {
          // One supplier or Stripe down must not stop the run: this booking waits for the next one
          // (the workflow keeps the watermark then). The error's text may quote a traveller: its class only.
          result.unreadable += 1;
          deps.log.warn({ bookingId: id, err: errorLabel(error) }, 'reconciliation: a booking could not be read; the next run looks again');
          continue;
        }
        result.examined += 1;
        if (!views) continue;
        const outcome = await reconcileBooking(id, views);
        result.opened += outcome.opened;
        result.closed += outcome.closed;
        result.repaired += outcome.repaired;
      }
      if (ids.length === input.limit) result.next = ids.at(-1);
      return result;
    },
  };
}
