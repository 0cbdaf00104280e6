/** The named activity options every workflow proxies its activities with: timeouts and retry policies. */
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
 * The same row updates run as local activities, in the worker's workflow task: no activity task
 * through the server. Only for a status no retry of that task can contradict (booking.workflow.ts).
 * Past the local retry threshold a retry waits on a workflow timer, so a long outage of our
 * database does not hold one workflow task open.
 */
export const RECORD_LOCALLY: LocalActivityOptions = {
  startToCloseTimeout: '10 seconds',
  // Past 2 s between tries a retry waits on a timer (a workflow task each): at most one a minute,
  // so a long outage adds a few history events a minute, not a dozen.
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
  localRetryThreshold: '2 seconds',
};

/**
 * Taking the payment once tickets are issued: after the forward tries, it goes on until the
 * authorization is about to lapse (the saga sets the schedule-to-close from it), never undoing.
 */
export const CAPTURE_PERSISTENTLY: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

/** Stop trying to capture this long before the authorization lapses: an operator still has time. */
export const CAPTURE_DEADLINE_MARGIN_MS = 6 * 60 * 60_000;

/** The forward steps with a smaller number of tries (tests make the retry budget short). */
export function forwardTries(attempts: number): ActivityOptions {
  return { ...FORWARD_STEP, retry: { ...FORWARD_STEP.retry, maximumAttempts: attempts } };
}
