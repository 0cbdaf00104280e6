import { ApplicationFailure } from '@temporalio/common';
import { BookingFailure } from '../domain/errors.js';

/**
 * The activity boundary: business outcomes become non-retryable failures typed
 * by their stable code; everything else is rethrown for Temporal to retry.
 */
export function withFailureTypes<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (error) {
        if (error instanceof BookingFailure) {
          throw ApplicationFailure.create({ type: error.code, message: error.message, nonRetryable: true });
        }
        throw error;
      }
    };
  }
  return wrapped as T;
}
