import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Booking } from '../../infra/db/entities.js';
import { bookingWorkflowId } from '../../domain/booking-ids.js';

/** A booking row as the API commits it (PENDING, before any saga), added to `em` for the caller to flush. */
export function pendingBookingRow(em: EntityManager, userId: string, workflowId = bookingWorkflowId(userId, randomUUID())) {
  return em.create(Booking, {
    id: randomUUID(),
    user: userId,
    workflowId,
    idempotencyKey: randomUUID(),
    requestHash: '0'.repeat(64),
    status: 'PENDING',
    totalMinor: 12_300,
    currency: 'EUR',
    passengers: [],
    contactEmail: 'pending@example.test',
    contactPhone: 'not-a-ciphertext',
  });
}
