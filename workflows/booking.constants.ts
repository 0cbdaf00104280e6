import type { ActivityOptions } from '@temporalio/workflow';

/** Provider and Stripe calls: short timeouts, backoff, and a bounded number of tries. */
export const FORWARD_STEP: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 12 },
};

/** Undo steps retry until they succeed (no attempt limit): a hold or an authorization is never dropped. */
export const COMPENSATION_STEP: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

/** Row updates in our own database. */
export const RECORD_STEP: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds' },
};

export const BOOKING_TASK_QUEUE = 'bookings';
