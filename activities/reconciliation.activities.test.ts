import { describe, expect, it } from 'vitest';
import type { ChargeView, SagaView } from '../domain/reconciliation.js';
import type { BookingRepository, PaymentGateway, ProviderClient, ProviderHold } from './booking.ports.js';
import { createReconciliationActivities } from './reconciliation.activities.js';
import type { ReconciliationStore } from './reconciliation.ports.js';

const unused = () => Promise.reject(new Error('not used by the reconciler'));

interface FakeBooking {
  status: 'PENDING' | 'STARTED' | 'HELD' | 'AWAITING_PAYMENT' | 'CONFIRMED' | 'FAILED' | 'CANCELLED';
  /** What each describe answers, in turn (the last one from then on). */
  saga: SagaView['execution'] | Error | Array<SagaView['execution']>;
  hold?: ProviderHold['state'] | Error;
  charge?: Omit<ChargeView, 'paymentIntentId'> | Error;
  /** The customer's cancellation workflow (`cancel-<bookingId>`); none by default. */
  cancellation?: SagaView['execution'];
}

/** The reconciler's world in memory: bookings of one sandbox item and at most one PaymentIntent each. */
function world(bookings: Record<string, FakeBooking>) {
  const synced: Array<{ bookingId: string; kinds: string[]; repaired: string[] }> = [];
  const released: string[] = [];
  const voided: string[] = [];
  const logged: object[] = [];
  const holdOf = (reference: string) => Object.entries(bookings).find(([id]) => reference.startsWith(`booking-${id}:`));

  const store: ReconciliationStore = {
    begin: unused,
    finish: unused,
    candidates: async ({ limit }) => Object.keys(bookings).sort().slice(0, limit),
    load: async (bookingId) => {
      const b = bookings[bookingId];
      if (!b) return undefined;
      return {
        workflowId: `booking-${bookingId}`,
        status: b.status,
        failureCode: null,
        items: [{ offerId: 'sandbox:SBX-1', provider: 'sandbox', state: 'HELD' }],
        payments: b.charge ? [{ paymentIntentId: `pi_${bookingId}`, status: 'AUTHORIZED', amountMinor: 5000, currency: 'EUR' }] : [],
      };
    },
    sync: async (bookingId, findings) => {
      synced.push({ bookingId, kinds: findings.map((f) => f.kind).sort(), repaired: findings.flatMap((f) => (f.repaired ? [f.kind] : [])).sort() });
      return { opened: findings.length, closed: 0 };
    },
  };
  const provider: ProviderClient = {
    name: 'sandbox',
    kinds: ['flight'],
    kindOf: () => 'flight',
    reprice: unused,
    hold: unused,
    confirm: unused,
    findHold: async (reference) => {
      const [id, b] = holdOf(reference) ?? [];
      if (!id || !b?.hold) return undefined;
      if (b.hold instanceof Error) throw b.hold;
      return { holdId: `H-${id}`, state: b.hold, expiresAt: '2030-01-01T00:00:00Z', totalMinor: 5000, currency: 'EUR' };
    },
    releaseOrCancel: async (holdId) => void released.push(holdId),
  };
  const payments: PaymentGateway = {
    authorize: unused,
    createIntent: unused,
    confirmIntent: unused,
    capture: unused,
    status: unused,
    refund: unused,
    void: async (paymentIntentId) => (voided.push(paymentIntentId), 'voided'),
  };
  const repository: BookingRepository = {
    setStatus: unused,
    setPricing: unused,
    updateItem: async () => undefined,
    recordPayment: async () => undefined,
    findPaymentIntentId: unused,
    pricedItem: unused,
    loadForCancellation: unused,
    recordRefund: unused,
    recordRefundedTotal: unused,
    loadPassengers: unused,
  };
  const activities = createReconciliationActivities({
    reconciliation: store,
    ledger: {
      inspect: async (paymentIntentId) => {
        const charge = bookings[paymentIntentId.replace(/^pi_/, '')]?.charge;
        if (charge instanceof Error) throw charge;
        return charge ? { paymentIntentId, ...charge } : undefined;
      },
    },
    sagas: {
      inspectSaga: async (workflowId) => {
        const answers = bookings[workflowId.replace(/^booking-/, '')]?.saga ?? 'NOT_FOUND';
        if (answers instanceof Error) throw answers;
        const saga = Array.isArray(answers) ? (answers.length > 1 ? answers.shift()! : answers[0]!) : answers;
        return { execution: saga };
      },
      inspectExecution: async (workflowId) => bookings[workflowId.replace(/^cancel-/, '')]?.cancellation ?? 'NOT_FOUND',
    },
    providers: new Map([['sandbox', provider]]),
    payments,
    bookings: repository,
    audit: async () => undefined,
    log: { warn: (details) => void logged.push(details) },
  });
  return { activities, synced, released, voided, logged };
}

const page = { since: null, limit: 25 };

describe('a reconciliation page', () => {
  it('goes on past a booking it cannot read, counts it, and leaves it as it was', async () => {
    const { activities, synced, released, logged } = world({
      a: { status: 'AWAITING_PAYMENT', saga: new Error('Temporal: deadline exceeded'), hold: 'HELD' },
      b: { status: 'AWAITING_PAYMENT', saga: 'TERMINATED', hold: 'HELD' },
    });
    const result = await activities.reconcilePage(page);
    expect(result).toMatchObject({ examined: 1, unreadable: 1, repaired: 1 });
    expect(synced.map((s) => s.bookingId)).toEqual(['b']);
    expect(released).toEqual(['H-b']);
    // The booking is named; what failed is named by its class only (a supplier's text may quote a traveller).
    expect(logged).toEqual([expect.objectContaining({ bookingId: 'a', err: 'Error' })]);
    expect(JSON.stringify(logged)).not.toContain('deadline');
  });

  it('counts a provider or Stripe outage on one booking as unreadable too', async () => {
    const { activities, synced } = world({
      a: { status: 'FAILED', saga: 'COMPLETED', hold: new Error('supplier 503') },
      b: { status: 'FAILED', saga: 'COMPLETED', hold: 'RELEASED', charge: new Error('stripe retrieve failed: api_error 500') },
      c: { status: 'FAILED', saga: 'COMPLETED', hold: 'RELEASED', charge: { status: 'canceled', capturedMinor: 0, refundedMinor: 0 } },
    });
    expect(await activities.reconcilePage(page)).toMatchObject({ examined: 1, unreadable: 2 });
    expect(synced.map((s) => s.bookingId)).toEqual(['c']);
  });

  it('reports a page of which nothing could be read (the run decides what that means)', async () => {
    const { activities, synced } = world({ a: { status: 'HELD', saga: new Error('unavailable') }, b: { status: 'HELD', saga: new Error('unavailable') } });
    expect(await activities.reconcilePage(page)).toMatchObject({ examined: 0, unreadable: 2 });
    expect(synced).toEqual([]);
  });

  it('describes the saga again right before a repair, and leaves what a saga that came back to life owns', async () => {
    // Not there (the booking failed by the stalled-work sweep), then running: a retried POST /bookings started it in between.
    const { activities, synced, released, voided } = world({
      a: { status: 'FAILED', saga: ['NOT_FOUND', 'RUNNING'], hold: 'HELD', charge: { status: 'requires_capture', capturedMinor: 0, refundedMinor: 0 } },
    });
    expect(await activities.reconcilePage(page)).toMatchObject({ examined: 1, repaired: 0 });
    expect(released).toEqual([]);
    expect(voided).toEqual([]);
    expect(synced[0]?.repaired).toEqual([]);
  });

  it('leaves a booking alone while its customer\'s cancellation runs (it is between cancelling the ticket and refunding)', async () => {
    const cancelling: FakeBooking = { status: 'CONFIRMED', saga: 'COMPLETED', hold: 'CANCELLED', charge: { status: 'succeeded', capturedMinor: 5000, refundedMinor: 0 } };
    const { activities, synced } = world({ a: { ...cancelling, cancellation: 'RUNNING' }, b: { ...cancelling, cancellation: 'UNKNOWN' } });
    expect(await activities.reconcilePage(page)).toMatchObject({ examined: 2, opened: 0, unreadable: 0 });
    expect(synced).toEqual([]);
    // A cancellation an operator terminated half-way leaves the capture for an operator's refund.
    const stopped = world({ a: { ...cancelling, cancellation: 'TERMINATED' } });
    await stopped.activities.reconcilePage(page);
    expect(stopped.synced).toEqual([{ bookingId: 'a', kinds: ['CAPTURE_WITHOUT_TICKET'], repaired: [] }]);
  });
});
