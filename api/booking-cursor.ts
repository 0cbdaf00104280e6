import { z } from '@hono/zod-openapi';
import { ApiError } from './problem.js';

/**
 * Keyset pages of bookings, newest first, shared by the traveller's list and the operators' one. A cursor is
 * the last row's creation time at Postgres's microseconds (a JavaScript Date would round them, and a cursor a
 * fraction early or late skips or repeats a row; infra/db/booking-records.store.ts reads it so) and its id.
 */
export const pageQuery = {
  cursor: z.string().max(200).regex(/^[A-Za-z0-9_-]+$/, 'must be a cursor this API returned').optional()
    .openapi({ description: 'Opaque: the `nextCursor` of the previous page' }),
  limit: z.coerce.number().int().min(1).max(100).default(20),
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export const badCursor = () => new ApiError('VALIDATION_FAILED', { errors: [{ path: 'cursor', message: 'invalid cursor' }] });
export const encodeCursor = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
export const decodeCursor = (cursor: string) => Buffer.from(cursor, 'base64url').toString('utf8');

export function bookingCursor(at: string, id: string): string {
  return encodeCursor(`${at}|${id}`);
}

export function readBookingCursor(cursor: string): { at: string; id: string } {
  const [at = '', id = '', ...rest] = decodeCursor(cursor).split('|');
  // Round-tripping through Date refuses a 30 February before Postgres gets to see it.
  const valid = rest.length === 0 && UUID.test(id) && TIMESTAMP.test(at)
    && !Number.isNaN(Date.parse(at)) && new Date(at).toISOString().slice(0, 19) === at.slice(0, 19) && Number(at.slice(0, 4)) >= 1;
  if (!valid) throw badCursor();
  return { at, id };
}
