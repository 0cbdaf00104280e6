import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';

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

/**
 * The same row updates as local activities: run by the worker inside the workflow task that asks
 * for them, so one short transaction costs no task-queue round trip and no workflow task of its
 * own. Same retries; every retry interval stays below the local retry threshold, so retrying
 * stays in the worker (the workflow task is kept alive meanwhile).
 */
export const RECORD_STEP_LOCAL: LocalActivityOptions = {
  startToCloseTimeout: RECORD_STEP.startToCloseTimeout,
  retry: RECORD_STEP.retry,
  localRetryThreshold: '1 minute',
};

/** When the saga looks again for holds granted after it gave up. */
export const DEFAULT_LATE_SUCCESS_SWEEP_MS = 2 * 60_000;
