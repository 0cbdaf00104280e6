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

/** The first tries of an undo; when they are spent the booking is flagged NEEDS_ATTENTION and retrying goes on. */
export function firstCompensationTries(attempts: number): ActivityOptions {
  return {
    startToCloseTimeout: '15 seconds',
    retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: attempts },
  };
}

export const DEFAULT_COMPENSATION_ALERT_ATTEMPTS = 8;

/** Row updates in our own database. */
export const RECORD_STEP: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds' },
};

/** When the saga looks again for holds granted after it gave up. */
export const DEFAULT_LATE_SUCCESS_SWEEP_MS = 2 * 60_000;
