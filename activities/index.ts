import { createBookingActivities, type BookingActivityDeps } from './booking.activities.js';
import { createCancellationActivities } from './cancellation.activities.js';

export type ActivityDeps = BookingActivityDeps;

/** Every activity the worker registers. */
export function createActivities(deps: ActivityDeps) {
  return { ...createBookingActivities(deps), ...createCancellationActivities(deps) };
}
export type Activities = ReturnType<typeof createActivities>;
