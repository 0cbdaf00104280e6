import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import { appendAudit } from '../audit/audit-log.js';
import type { BookingRepository } from '../../activities/booking.ports.js';
import { isFareRule } from '../../domain/fare-rules.js';
import { Booking, BookingItem, Payment } from './entities.js';
import type { Orm } from './orm.js';

/**
 * BookingRepository on MikroORM: one forked EntityManager per call, parameterised queries only.
 * Status and payment changes write their audit event in the same transaction.
 */
export function createBookingRepository(orm: Orm, options: { auditKey: string }): BookingRepository {
  return {
    async setStatus(bookingId, status, failure) {
      await orm.em.fork().transactional(async (em) => {
        const before = await em.findOneOrFail(Booking, { id: bookingId }, { fields: ['status'], lockMode: LockMode.PESSIMISTIC_WRITE });
        if (before.status === status) return; // a retried activity: already recorded
        await em.nativeUpdate(
          Booking,
          { id: bookingId },
          { status, failureCode: failure?.code ?? null, failureMessage: failure?.message ?? null, updatedAt: new Date() },
        );
        await appendAudit(em, options.auditKey, {
          actor: 'system:booking-saga',
          action: 'booking.status_changed',
          resource: `booking:${bookingId}`,
          result: status,
          details: { from: before.status, to: status, code: failure?.code ?? null },
        });
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
      await orm.em.fork().nativeUpdate(BookingItem, { booking: bookingId, offerId }, patch);
    },
    async recordPayment(bookingId, payment) {
      await orm.em.fork().transactional(async (em) => {
        const before = await em.findOne(Payment, { paymentIntentId: payment.paymentIntentId }, { fields: ['status'] });
        if (before?.status === payment.status) return; // a retried activity: already recorded
        await em.upsert(
          Payment,
          { id: randomUUID(), booking: bookingId, ...payment, createdAt: new Date(), updatedAt: new Date() },
          { onConflictFields: ['paymentIntentId'], onConflictMergeFields: ['status', 'updatedAt'] },
        );
        await appendAudit(em, options.auditKey, {
          actor: 'system:booking-saga',
          action: 'payment.status_changed',
          resource: `booking:${bookingId}`,
          result: payment.status,
          details: { from: before?.status ?? null, to: payment.status, amountMinor: payment.amountMinor, currency: payment.currency },
        });
      });
    },
    async loadForCancellation(bookingId) {
      const em = orm.em.fork();
      const booking = await em.findOneOrFail(Booking, { id: bookingId }, { populate: ['items', 'payments'] });
      return {
        workflowId: booking.workflowId,
        status: booking.status,
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
    async recordRefund(bookingId, paymentIntentId, refundedMinor) {
      await orm.em.fork().transactional(async (em) => {
        const before = await em.findOne(Payment, { booking: bookingId, paymentIntentId }, { fields: ['status', 'currency'] });
        if (!before || before.status === 'REFUNDED') return; // a retried activity: already recorded
        await em.nativeUpdate(Payment, { booking: bookingId, paymentIntentId }, { refundedMinor, status: 'REFUNDED', updatedAt: new Date() });
        await appendAudit(em, options.auditKey, {
          actor: 'system:booking-saga',
          action: 'payment.status_changed',
          resource: `booking:${bookingId}`,
          result: 'REFUNDED',
          details: { from: before.status, to: 'REFUNDED', amountMinor: refundedMinor, currency: before.currency },
        });
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
