import { Context } from '@temporalio/activity';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { BookingFailure } from '../domain/errors.js';

/** Where an unexpected error's detail goes: the worker's own (redacting) log, never Temporal. */
export interface FailureLog {
  warn(details: object, message: string): void;
}

/** The type of every unexpected activity error: retried, its detail in the worker's log only. */
export const UNEXPECTED_ACTIVITY_ERROR = 'ACTIVITY_ERROR';

// A class name or a library's error code (ECONNREFUSED, EENVELOPE) helps an operator and names no one.
const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;

/** An error named by its class and code only: what a log may say about a failure without its text. */
export function errorLabel(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const code = (error as { code?: unknown }).code;
  return [error.name, typeof code === 'string' ? code : undefined].filter((part) => part && IDENTIFIER.test(part)).join(' ') || 'Error';
}

function attempt(): Record<string, unknown> {
  try {
    const { workflowExecution, activityId, attempt: number } = Context.current().info;
    return { workflowId: workflowExecution?.workflowId, activityId, attempt: number };
  } catch {
    return {}; // called outside a worker (a unit test)
  }
}

/**
 * The activity boundary, for every activity the worker registers: business outcomes become
 * non-retryable failures typed by their stable code; anything else becomes a retryable failure
 * with a fixed message, because an error's own text (a mail server naming the recipient, a
 * supplier's reason, a driver quoting a row) would otherwise travel into Temporal's history.
 */
export function withFailureTypes<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T, log: FailureLog): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (error) {
        if (error instanceof BookingFailure) {
          throw ApplicationFailure.create({ type: error.code, message: error.message, nonRetryable: true });
        }
        // Our own failures, and the SDK's (a cancelled activity), already say only what we chose;
        // an AbortError is how a cancelled activity ends, and the SDK reports it as cancelled only as is.
        if (error instanceof TemporalFailure || (error instanceof Error && error.name === 'AbortError')) throw error;
        const what = errorLabel(error);
        log.warn({ activity: name, ...attempt(), err: error }, 'activity failed; Temporal retries it');
        throw ApplicationFailure.create({ type: UNEXPECTED_ACTIVITY_ERROR, message: `${name} failed (${what}); the worker's log has the detail`, nonRetryable: false });
      }
    };
  }
  return wrapped as T;
}
