import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { AppendAudit } from './append-audit.js';
import type { BookingRepository, SystemActor } from '../../activities/booking.ports.js';
import { BOOKING_ITEM_TRANSITIONS, BOOKING_TRANSITIONS, PAYMENT_TRANSITIONS } from '../../domain/booking-transitions.js';
import { isFareRule } from '../../domain/fare-rules.js';
import type { StateMachine } from '../../domain/state-machine.js';
import { Booking, BookingItem, Payment } from './entities.js';
import type { Orm } from './orm.js';

/** The audit trail's actor for a change whose caller names none. */
const SAGA: SystemActor = 'system:booking-saga';

/** A state the table does not know is a bug in the caller, not a refused transition. */
function known<S extends string>(machine: StateMachine<S>, what: string, state: string): S {
  if (!machine.isState(state)) throw new TypeError(`unknown ${what}: ${state}`);
  return state;
}

/**
 * BookingRepository on MikroORM: one forked EntityManager per call, parameterised queries only.
 * Every status change is conditional on the row's current one (domain/booking-transitions.ts):
 * `UPDATE … WHERE status IN (allowed predecessors)`. Status and payment changes write their
 * audit event in the same transaction, only when the row changed.
 */
export function createBookingRepository(orm: Orm, options: { audit: AppendAudit }): BookingRepository {
  return {
    async setStatus(bookingId, status, { failure, from, actor = SAGA } = {}) {
      const to = known(BOOKING_TRANSITIONS, 'booking status', status);
      return orm.em.fork().transactional(async (em) => {
        const before = await em.findOneOrFail(Booking, { id: bookingId }, { fields: ['status'], lockMode: LockMode.PESSIMISTIC_WRITE });
        if (before.status === to) return true; // a retried activity: already recorded
        const changed = await em.nativeUpdate(
          Booking,
          { id: bookingId, status: { $in: BOOKING_TRANSITIONS.predecessorsOf(to).filter((s) => !from || from.includes(s)) } },
          { status: to, failureCode: failure?.code ?? null, failureMessage: failure?.message ?? null, updatedAt: new Date() },
        );
        // Refused, and not thrown: the record step retries a throw for ever, and the row is right as it is.
        if (changed === 0) return false;
        await options.audit(em, {
          actor,
          action: 'booking.status_changed',
          resource: `booking:${bookingId}`,
          result: to,
          details: { from: before.status, to, code: failure?.code ?? null },
        });
        return true;
      });
    },
    async setPricing(bookingId, items, totalMinor) {
      await orm.em.fork().transactional(async (em) => {
        for (const item of items) {
          await em.nativeUpdate(
            BookingItem,
            { booking: bookingId, offerId: item.offerId },
            { priceMinor: item.priceMinor, fareRule: item.fareRule },
          );
        }
        await em.nativeUpdate(Booking, { id: bookingId }, { totalMinor, updatedAt: new Date() });
      });
    },
    async updateItem(bookingId, offerId, patch) {
      const to = known(BOOKING_ITEM_TRANSITIONS, 'booking item state', patch.state);
      // A released or cancelled item stays so: a late hold or confirm attempt writes nothing.
      await orm.em.fork().nativeUpdate(BookingItem, { booking: bookingId, offerId, state: { $in: BOOKING_ITEM_TRANSITIONS.predecessorsOf(to) } }, patch);
    },
    async recordPayment(bookingId, payment, actor = SAGA) {
      const to = known(PAYMENT_TRANSITIONS, 'payment status', payment.status);
      await orm.em.fork().transactional(async (em) => {
        const before = await em.findOne(Payment, { paymentIntentId: payment.paymentIntentId }, { fields: ['status'], lockMode: LockMode.PESSIMISTIC_WRITE });
        if (before?.status === to) return; // a retried activity: already recorded
        if (before) {
          // Only forward: a VOIDED payment is never AUTHORIZED again by a late authorize attempt.
          const changed = await em.nativeUpdate(
            Payment,
            { paymentIntentId: payment.paymentIntentId, status: { $in: PAYMENT_TRANSITIONS.predecessorsOf(to) } },
            { status: to, updatedAt: new Date() },
          );
          if (changed === 0) return;
        } else {
          // Two first records at once: the unique id fails one, whose retry then finds the row.
          await em.insert(Payment, { id: randomUUID(), booking: bookingId, ...payment, status: to, createdAt: new Date(), updatedAt: new Date() });
        }
        await options.audit(em, {
          actor,
          action: 'payment.status_changed',
          resource: `booking:${bookingId}`,
          result: to,
          details: { from: before?.status ?? null, to, amountMinor: payment.amountMinor, currency: payment.currency },
        });
      });
    },
    async loadForCancellation(bookingId) {
      const em = orm.em.fork();
      const booking = await em.findOneOrFail(Booking, { id: bookingId }, { populate: ['items', 'payments'] });
      return {
        workflowId: booking.workflowId,
        status: booking.status,
        failureCode: booking.failureCode ?? undefined,
        currency: booking.currency,
        items: booking.items.getItems().map((item) => ({
          offerId: item.offerId,
          provider: item.provider,
          priceMinor: item.priceMinor,
          fareRule: isFareRule(item.fareRule) ? item.fareRule : 'SAVER',
          state: item.state,
        })),
        paymentIntentId: booking.payments.getItems().find((p) => p.status === 'CAPTURED' || p.status === 'REFUNDED')?.paymentIntentId,
      };
    },
    async recordRefund(bookingId, paymentIntentId, refundedMinor, actor = SAGA) {
      await orm.em.fork().transactional(async (em) => {
        const before = await em.findOne(Payment, { booking: bookingId, paymentIntentId }, { fields: ['status', 'currency'] });
        if (!before || before.status === 'REFUNDED') return; // a retried activity: already recorded
        const changed = await em.nativeUpdate(
          Payment,
          { booking: bookingId, paymentIntentId, status: { $in: PAYMENT_TRANSITIONS.predecessorsOf('REFUNDED') } },
          { refundedMinor, status: 'REFUNDED', updatedAt: new Date() },
        );
        if (changed === 0) return;
        await options.audit(em, {
          actor,
          action: 'payment.status_changed',
          resource: `booking:${bookingId}`,
          result: 'REFUNDED',
          details: { from: before.status, to: 'REFUNDED', amountMinor: refundedMinor, currency: before.currency },
        });
      });
    },
    async recordRefundedTotal(bookingId, paymentIntentId, refundedMinor) {
      return orm.em.fork().transactional(async (em) => {
        const before = await em.findOneOrFail(
          Payment,
          { booking: bookingId, paymentIntentId },
          { fields: ['status', 'amountMinor', 'refundedMinor', 'currency'], lockMode: LockMode.PESSIMISTIC_WRITE },
        );
        // Stripe's total only grows: a retried or late activity never lowers what is recorded.
        const total = Math.max(before.refundedMinor, refundedMinor);
        const fully = total >= before.amountMinor;
        if (total === before.refundedMinor && (!fully || before.status === 'REFUNDED')) return { fully };
        const to = fully ? 'REFUNDED' : before.status;
        const changed = await em.nativeUpdate(
          Payment,
          // Partly refunded stays where it is (CAPTURED, or a cancellation's partial REFUNDED).
          { booking: bookingId, paymentIntentId, status: { $in: fully ? [...PAYMENT_TRANSITIONS.predecessorsOf('REFUNDED'), 'REFUNDED'] : ['CAPTURED', 'REFUNDED'] } },
          { refundedMinor: total, status: to, updatedAt: new Date() },
        );
        if (changed === 0) return { fully: false };
        await options.audit(em, {
          actor: 'system:refund',
          action: 'payment.refunded',
          resource: `booking:${bookingId}`,
          result: to,
          details: { from: before.status, to, refundedMinor: total, amountMinor: before.amountMinor, currency: before.currency },
        });
        return { fully };
      });
    },
    async loadPassengers(bookingId) {
      const booking = await orm.em.fork().findOneOrFail(Booking, { id: bookingId }, { fields: ['user', 'passengers'] });
      return { userId: booking.user.id, passengers: booking.passengers };
    },
    async pricedItem(bookingId, offerId) {
      const item = await orm.em.fork().findOneOrFail(BookingItem, { booking: bookingId, offerId }, { fields: ['priceMinor', 'currency'] });
      return { priceMinor: item.priceMinor, currency: item.currency };
    },
    async findPaymentIntentId(bookingId) {
      const payment = await orm.em.fork().findOne(Payment, { booking: bookingId }, { orderBy: { createdAt: 'desc' } });
      return payment?.paymentIntentId;
    },
  };
}
