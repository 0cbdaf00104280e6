import { createHash, randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { canonicalJson } from '../domain/canonical-json.js';
import { toMinor } from '../domain/money.js';
import type { CreateBookingRequest, OfferKind } from '../domain/booking.schemas.js';
import type { ProviderClient } from '../activities/booking.ports.js';
import { mask, type FieldCipher } from '../infra/crypto/field-cipher.js';
import { bookingWorkflow, cancelUpdate, type BookingWorkflowInput } from '../workflows/booking.workflow.js';
import { cancellationWorkflow } from '../workflows/cancellation.workflow.js';
import type { BookingRecord, BookingRecords, NewBooking } from './booking-records.js';
import { ApiError } from './problem.js';
import { bookingWorkflowId, cancellationWorkflowId } from '../domain/booking-ids.js';

export interface BookingServiceDeps {
  bookings: BookingRecords;
  temporal: Client;
  taskQueue: string;
  cipher: FieldCipher;
  compensationAlertAttempts: number;
  lateSuccessSweepMs: number;
  /** Tries of each forward step; the workflow's default when unset. */
  forwardAttempts?: number;
  /** By name; an offer's kind is its provider's to say. */
  providers: ReadonlyMap<string, Pick<ProviderClient, 'kindOf'>>;
}

/** Offer ids start with their provider's name, as the adapters issue them. */
function sourceOf(offerId: string, providers: BookingServiceDeps['providers']): { provider: string; kind: OfferKind } {
  const provider = offerId.split(':')[0] ?? '';
  const client = providers.get(provider);
  if (!client) throw new ApiError('VALIDATION_FAILED', { errors: [{ path: 'offers', message: 'unknown offer' }] });
  return { provider, kind: client.kindOf(offerId) };
}

/** Creating and reading bookings: the idempotency record, encryption of PII, and the saga's start. */
export function createBookingService(deps: BookingServiceDeps) {
  async function startSaga(booking: BookingRecord, input: BookingWorkflowInput) {
    try {
      await deps.temporal.workflow.start(bookingWorkflow, {
        workflowId: booking.workflowId,
        taskQueue: deps.taskQueue,
        args: [input],
        // What operators see in the Web UI beside the search attributes: no PII.
        memo: { bookingId: input.bookingId, seats: input.seats, offers: input.offers.map((o) => o.offerId) },
        // A retried POST, or a second one racing it, attaches to the same saga...
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        // ...and a saga that has finished is never run a second time.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  }

  function workflowInput(booking: BookingRecord, request: CreateBookingRequest): BookingWorkflowInput {
    return {
      bookingId: booking.id,
      userId: booking.userId,
      seats: request.passengers.length,
      offers: request.offers.map((o) => ({
        offerId: o.offerId,
        provider: sourceOf(o.offerId, deps.providers).provider,
        expectedMinor: toMinor(o.expectedPrice),
        currency: o.expectedPrice.currency,
      })),
      paymentMethodId: request.paymentMethodId,
      compensationAlertAttempts: deps.compensationAlertAttempts,
      lateSuccessSweepMs: deps.lateSuccessSweepMs,
      ...(deps.forwardAttempts ? { forwardAttempts: deps.forwardAttempts } : {}),
    };
  }

  return {
    /** Returns the booking and whether this call created it. */
    async create(userId: string, idempotencyKey: string, request: CreateBookingRequest): Promise<{ booking: BookingRecord; created: boolean }> {
      const requestHash = createHash('sha256').update(canonicalJson(request)).digest('hex');
      const currencies = new Set(request.offers.map((o) => o.expectedPrice.currency));
      if (currencies.size > 1) {
        throw new ApiError('VALIDATION_FAILED', { errors: [{ path: 'offers', message: 'all offers must be in one currency' }] });
      }
      const offers = request.offers.map((o) => ({ ...o, ...sourceOf(o.offerId, deps.providers) }));

      // Looked up first: a replay is answered from the stored booking alone, with nothing of the body
      // encrypted again (a retry after a lost answer does not need KMS) and no refused insert.
      const existing = await deps.bookings.findByIdempotencyKey(userId, idempotencyKey);
      if (existing) return { booking: await replay(existing, requestHash, request), created: false };

      const passengers: NewBooking['passengers'] = await Promise.all(
        request.passengers.map(async (p) => ({
          givenName: p.givenName,
          familyName: p.familyName,
          dateOfBirth: await deps.cipher.encrypt(userId, p.dateOfBirth),
          passportNumber: await deps.cipher.encrypt(userId, p.passportNumber),
          passportHint: mask(p.passportNumber, 3),
          passportCountry: p.passportCountry,
          nationality: p.nationality,
        })),
      );
      const booking = await deps.bookings.create({
        id: randomUUID(),
        userId,
        workflowId: bookingWorkflowId(userId, idempotencyKey),
        idempotencyKey,
        requestHash,
        totalMinor: offers.reduce((sum, o) => sum + toMinor(o.expectedPrice), 0),
        currency: offers[0]!.expectedPrice.currency,
        passengers,
        contactEmail: request.contact.email,
        contactPhone: await deps.cipher.encrypt(userId, request.contact.phone),
        notes: request.notes ?? null,
        items: offers.map((offer) => ({
          offerId: offer.offerId,
          provider: offer.provider,
          kind: offer.kind,
          priceMinor: toMinor(offer.expectedPrice),
          currency: offer.expectedPrice.currency,
        })),
      });
      if (booking === 'duplicate') {
        // A concurrent request with the same key committed first: answer as its replay.
        const winner = await deps.bookings.findByIdempotencyKey(userId, idempotencyKey);
        if (!winner) throw new Error('the booking that won the Idempotency-Key race is missing');
        return { booking: await replay(winner, requestHash, request), created: false };
      }
      await startSaga(booking, workflowInput(booking, request));
      return { booking, created: true };
    },

    /**
     * Before confirmation the saga compensates (answered once the saga accepts the cancel); after it, a cancellation workflow (one per
     * booking) cancels at the providers and refunds per the fare rules. Safe to repeat.
     */
    async cancel(userId: string, bookingId: string, idempotencyKey: string): Promise<BookingRecord> {
      const booking = await this.findOwn(userId, bookingId);
      if (booking.status === 'CANCELLED' || booking.status === 'REFUNDED') return booking;
      const stuckCancelling = booking.status === 'NEEDS_ATTENTION' && booking.failureCode === 'CANCELLATION_STUCK';
      if (booking.status === 'CONFIRMED' || stuckCancelling) {
        try {
          await deps.temporal.workflow.start(cancellationWorkflow, {
            workflowId: cancellationWorkflowId(booking.id),
            taskQueue: deps.taskQueue,
            args: [{ bookingId: booking.id, compensationAlertAttempts: deps.compensationAlertAttempts }],
            // One run at a time; a run that failed (terminated by an operator, timed out) may run
            // again, and one that completed never does (its refund key makes a rerun refund once).
            workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
            workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
          });
        } catch (error) {
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        }
        return booking;
      }
      if (!['PENDING', 'STARTED', 'HELD', 'AWAITING_PAYMENT'].includes(booking.status)) {
        throw new ApiError('BOOKING_NOT_CANCELLABLE', { detail: `A ${booking.status.toLowerCase()} booking cannot be cancelled.` });
      }
      try {
        // The saga answers as soon as it has taken the cancel; the compensation runs on (a slow
        // provider can take minutes) and the client follows the booking. Waiting for the answer, not
        // only for ACCEPTED: the SDK hands back a refused update without an error at that stage.
        // The update id makes a retried request the same update.
        await deps.temporal.workflow.getHandle(booking.workflowId).executeUpdate(cancelUpdate, {
          args: [{}],
          updateId: `cancel-${idempotencyKey}`,
        });
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError) {
          throw new ApiError('BOOKING_NOT_CANCELLABLE', { detail: 'The booking is already being confirmed or has finished.' });
        }
        // No saga runs for it: an operator stopped it (the reconciler reports it to them), or it never started.
        if (error instanceof WorkflowNotFoundError) {
          throw new ApiError('BOOKING_NOT_CANCELLABLE', { detail: 'The booking is no longer being processed, so it cannot be cancelled here; support can help.' });
        }
        throw error;
      }
      return this.findOwn(userId, bookingId);
    },

    async findOwn(userId: string, bookingId: string): Promise<BookingRecord> {
      const booking = await deps.bookings.findOwn(userId, bookingId);
      // Someone else's booking is indistinguishable from a missing one.
      if (!booking) throw new ApiError('NOT_FOUND');
      return booking;
    },
  };

  async function replay(existing: BookingRecord, requestHash: string, request: CreateBookingRequest): Promise<BookingRecord> {
    if (existing.requestHash !== requestHash) throw new ApiError('IDEMPOTENCY_KEY_REUSED');
    // The first request may have died between its commit and the saga's start: starting again is safe.
    if (existing.status === 'PENDING') await startSaga(existing, workflowInput(existing, request));
    return existing;
  }
}
export type BookingService = ReturnType<typeof createBookingService>;
