import { createBookingActivities, type BookingActivityDeps } from './booking.activities.js';

export type ActivityDeps = BookingActivityDeps;

/** Every activity the worker registers. */
export function createActivities(deps: ActivityDeps) {
  return { ...createBookingActivities(deps) };
}
export type Activities = ReturnType<typeof createActivities>;
