import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import type { Passenger } from '../domain/booking.schemas.js';
import { createFieldCipher, type DataKeyStore } from '../infra/crypto/field-cipher.js';
import { fakeKms } from '../test/support/fake-kms.js';
import { createBookingActivities } from './booking.activities.js';
import { UNEXPECTED_ACTIVITY_ERROR, withFailureTypes } from './failures.js';
import type { BookingRepository, ProviderClient, StoredPassenger } from './booking.ports.js';

const USER = 'user-1';
const ada: Passenger = { givenName: 'Ada', familyName: 'Lovelace', dateOfBirth: '1985-12-10', passportNumber: 'X1234567', passportCountry: 'GB', nationality: 'GB' };
const step = { bookingId: 'b-1', workflowId: 'booking-w-1', offerId: 'sandbox:SBX-1', provider: 'sandbox', holdId: 'H-1' };

const unused = () => Promise.reject(new Error('not used by this test'));

/** One booking whose passengers were stored as the API stores them, at one provider. */
async function world(options: { kmsDown?: boolean; provider?: Partial<ProviderClient>; bookings?: Partial<BookingRepository> } = {}) {
  const keys = new Map<string, string>();
  const store: DataKeyStore = {
    load: async (userId) => keys.get(userId) ?? null,
    saveIfAbsent: async (userId, wrapped) => keys.get(userId) ?? (keys.set(userId, wrapped), wrapped),
  };
  const kms = fakeKms().service;
  const encrypting = createFieldCipher({ keys: kms, store });
  let passengers: StoredPassenger[] = [
    { ...ada, dateOfBirth: await encrypting.encrypt(USER, ada.dateOfBirth), passportNumber: await encrypting.encrypt(USER, ada.passportNumber) },
  ];
  const updates: unknown[] = [];
  const bookings: BookingRepository = {
    setStatus: unused,
    setPricing: unused,
    updateItem: async (...args) => void updates.push(args),
    recordPayment: unused,
    findPaymentIntentId: unused,
    pricedItem: unused,
    loadForCancellation: unused,
    recordRefund: unused,
    recordRefundedTotal: unused,
    loadPassengers: async () => ({ userId: USER, passengers }),
    ...options.bookings,
  };
  const received: Array<readonly Passenger[]> = [];
  const provider: ProviderClient = {
    name: 'sandbox',
    kinds: ['flight'],
    kindOf: () => 'flight',
    reprice: unused,
    hold: unused,
    findHold: unused,
    releaseOrCancel: unused,
    confirm: async (_holdId, travellers) => {
      received.push(travellers);
      return { confirmationCode: 'PNR123' };
    },
    ...options.provider,
  };
  // The worker's cipher: a fresh cache, as after a restart.
  const keyService = options.kmsDown ? { ...kms, decryptDataKey: () => Promise.reject(new Error('KMS unreachable')) } : kms;
  // Behind the worker's failure boundary, as createActivities registers them.
  const logged: unknown[] = [];
  const log = { warn: (details: object) => void logged.push(details) };
  const activities = withFailureTypes(createBookingActivities({
    bookings,
    providers: new Map([['sandbox', provider]]),
    payments: { authorize: unused, createIntent: unused, confirmIntent: unused, capture: unused, void: unused, status: unused, refund: unused },
    priceTolerancePercent: 0,
    cipher: createFieldCipher({ keys: keyService, store }),
  }), log);
  return {
    activities,
    logged,
    received,
    updates,
    erase: () => void (passengers = []),
    destroyKey: () => keys.delete(USER),
  };
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a failure'),
    (error: unknown) => error,
  );
}

describe('confirmHold', () => {
  it('hands the provider the decrypted travellers and returns nothing of them', async () => {
    const w = await world();
    const result = await w.activities.confirmHold(step);
    expect(w.received).toEqual([[ada]]);
    expect(result).toEqual({ confirmationCode: 'PNR123' });
    expect(w.updates).toEqual([['b-1', 'sandbox:SBX-1', { state: 'CONFIRMED', confirmationCode: 'PNR123' }]]);
  });

  it('fails for good, with PASSENGER_DATA_ERASED, once the passengers or their data key are gone', async () => {
    for (const gone of ['erase', 'destroyKey'] as const) {
      const w = await world();
      w[gone]();
      const failure = await failureOf(w.activities.confirmHold(step));
      expect(failure, gone).toBeInstanceOf(ApplicationFailure);
      expect(failure, gone).toMatchObject({ type: 'PASSENGER_DATA_ERASED', nonRetryable: true });
      expect(JSON.stringify({ message: (failure as Error).message })).not.toMatch(/Lovelace|X1234567|1985/);
      expect(w.received, gone).toEqual([]);
    }
  });

  it('leaves a KMS outage to Temporal to retry, its detail in the worker log only', async () => {
    const w = await world({ kmsDown: true });
    const failure = await failureOf(w.activities.confirmHold(step));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: UNEXPECTED_ACTIVITY_ERROR, nonRetryable: false, message: "confirmHold failed (Error); the worker's log has the detail" });
    expect(w.logged).toEqual([expect.objectContaining({ activity: 'confirmHold', err: expect.objectContaining({ message: 'KMS unreachable' }) })]);
    expect(w.received).toEqual([]);
  });
});

describe('releaseHold', () => {
  const hold = { holdId: 'H-1', expiresAt: '2026-12-07T12:00:00Z', totalMinor: 100, currency: 'EUR' };

  it('records what the provider holds after the undo: a ticketed hold cancelled, an unticketed one released', async () => {
    for (const [found, recorded] of [['HELD', 'RELEASED'], ['CONFIRMED', 'CANCELLED'], ['RELEASED', 'RELEASED'], ['EXPIRED', 'RELEASED']] as const) {
      const undone: string[] = [];
      const w = await world({ provider: { findHold: async () => ({ ...hold, state: found }), releaseOrCancel: async (id) => void undone.push(id) } });
      await w.activities.releaseHold(step);
      expect(undone, found).toEqual(['H-1']);
      expect(w.updates, found).toEqual([['b-1', 'sandbox:SBX-1', { state: recorded }]]);
    }
  });

  // Found by the chaos suite: an attempt cancelled the ticket and lost the answer; the next one
  // found the hold CANCELLED and recorded the item RELEASED, though the provider had ticketed it.
  it('records a hold that an earlier attempt cancelled as cancelled, not released', async () => {
    const w = await world({ provider: { findHold: async () => ({ ...hold, state: 'CANCELLED' }), releaseOrCancel: async () => undefined } });
    await w.activities.releaseHold(step);
    expect(w.updates).toEqual([['b-1', 'sandbox:SBX-1', { state: 'CANCELLED' }]]);
  });

  it('records a hold the provider never made as released', async () => {
    const w = await world({ provider: { findHold: async () => undefined } });
    await w.activities.releaseHold(step);
    expect(w.updates).toEqual([['b-1', 'sandbox:SBX-1', { state: 'RELEASED' }]]);
  });
});

describe('setBookingStatus', () => {
  it('audits the change under the workflow that asked for it (one activity serves the saga, a cancellation and a refund)', async () => {
    const asked: unknown[] = [];
    const w = await world({ bookings: { setStatus: async (...args) => (asked.push(args), true) } });
    const input = { bookingId: 'b-1', status: 'CANCELLED' };
    for (const workflowType of ['bookingWorkflow', 'cancellationWorkflow', 'refundWorkflow', 'someLaterWorkflow']) {
      await new MockActivityEnvironment({ workflowType }).run(w.activities.setBookingStatus, input);
    }
    // Outside a worker (the benchmarks' in-process saga) the repository's default applies.
    await w.activities.setBookingStatus({ ...input, from: ['CONFIRMED'] });
    expect(asked.map((args) => (args as [string, string, { actor?: string }])[2].actor)).toEqual([
      'system:booking-saga',
      'system:cancellation',
      'system:refund',
      'system:someLaterWorkflow',
      undefined,
    ]);
    expect(asked.at(-1)).toEqual(['b-1', 'CANCELLED', { failure: undefined, from: ['CONFIRMED'], actor: undefined }]);
  });
});
