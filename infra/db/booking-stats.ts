import type { Orm } from './orm.js';

/** Bookings per status, for the metrics gauge. */
export async function countBookingsByStatus(orm: Orm): Promise<Array<{ status: string; count: number }>> {
  return orm.em.getConnection().execute<Array<{ status: string; count: number }>>(
    'select status, count(*)::int as count from bookings group by status',
  );
}
