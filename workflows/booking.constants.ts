/** When the saga looks again for holds granted after it gave up. */
export const DEFAULT_LATE_SUCCESS_SWEEP_MS = 2 * 60_000;

/** Give up waiting for 3-D Secure this long before the hold expires (at most a quarter of the wait). */
export const HOLD_EXPIRY_MARGIN_MS = 30_000;
