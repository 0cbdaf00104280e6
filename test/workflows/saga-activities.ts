import { Context } from '@temporalio/activity';
import type { Activities } from '../../activities/index.js';
import { withFailureTypes } from '../../activities/failures.js';

const SAGA_ACTIVITY_NAMES = [
  'repriceOffers',
  'holdOffer',
  'releaseHold',
  'confirmHold',
  'createPaymentIntent',
  'confirmPaymentIntent',
  'voidPayment',
  'paymentStatus',
  'capturePayment',
  'setBookingStatus',
] as const satisfies ReadonlyArray<keyof Activities>;

/** The activities the booking saga calls, typed by the real factory's: a mock that drifts from them fails tsc. */
export type SagaActivities = Pick<Activities, (typeof SAGA_ACTIVITY_NAMES)[number]>;

/**
 * What one worker registers for every saga of a test file: each call goes to the mocks of the saga
 * (by workflow id) that made it, so the tests share a worker instead of starting one each.
 */
export function activitiesBySaga(sagas: ReadonlyMap<string, SagaActivities>): SagaActivities {
  const route = (name: keyof SagaActivities) => (input: never) => {
    const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
    const mocks = sagas.get(workflowId);
    if (!mocks) throw new Error(`no mocked activities for ${workflowId}`);
    return (mocks[name] as (input: never) => Promise<unknown>)(input);
  };
  return Object.fromEntries(SAGA_ACTIVITY_NAMES.map((name) => [name, route(name)])) as unknown as SagaActivities;
}

export interface Call {
  activity: keyof SagaActivities;
  input: Record<string, unknown>;
}

/** A promise the test opens: an activity waits on it, so the test acts while the saga is inside that step. */
export interface Gate {
  open(): void;
  readonly opened: Promise<void>;
}
export function gate(): Gate {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** The server's "now" (skipped time included), which a fake supplier's expiry must follow, not the wall clock. */
export const serverNow = () => Context.current().info.currentAttemptScheduledTimestampMs;

export const HOLD_MINUTES = 15;
export const PAYMENT_INTENT_ID = 'pi_saga_test';

/**
 * Mocked saga activities, a happy path unless overridden, behind the real failure boundary
 * (activities/failures.ts), so a mock throws a BookingFailure as the real activity does. Every call
 * is recorded; `statuses` are the rows the saga wrote.
 */
export function sagaActivities(overrides: Partial<SagaActivities> = {}) {
  const calls: Call[] = [];
  const statuses: string[] = [];
  const statusWrites: Array<{ status: string; from?: string[] }> = [];
  const defaults: SagaActivities = {
    async repriceOffers(input) {
      const items = input.offers.map((offer) => ({ offerId: offer.offerId, provider: offer.provider, priceMinor: offer.expectedMinor, fareRule: 'FLEX' as const }));
      return { items, totalMinor: items.reduce((sum, item) => sum + item.priceMinor, 0), currency: input.offers[0]?.currency ?? 'EUR' };
    },
    async holdOffer(input) {
      return { holdId: `hold-${input.offerId}`, expiresAt: new Date(serverNow() + HOLD_MINUTES * 60_000).toISOString() };
    },
    async releaseHold() {},
    async confirmHold(input) {
      return { confirmationCode: `CONF-${input.offerId}` };
    },
    async createPaymentIntent() {
      return { paymentIntentId: PAYMENT_INTENT_ID };
    },
    async confirmPaymentIntent(input) {
      return { paymentIntentId: input.paymentIntentId, status: 'requires_capture' };
    },
    async voidPayment(input) {
      return input.paymentIntentId ? 'VOIDED' : 'NONE';
    },
    async paymentStatus() {
      return 'requires_capture';
    },
    async capturePayment() {},
    async setBookingStatus(input) {
      statuses.push(input.status);
      statusWrites.push({ status: input.status, from: input.from });
      return true;
    },
  };
  const chosen: SagaActivities = { ...defaults, ...overrides };
  const recorded = Object.fromEntries(
    (Object.keys(chosen) as Array<keyof SagaActivities>).map((activity) => [
      activity,
      (input: Record<string, unknown>) => {
        if (activity !== 'setBookingStatus') calls.push({ activity, input });
        return (chosen[activity] as (input: Record<string, unknown>) => Promise<unknown>)(input);
      },
    ]),
  ) as unknown as SagaActivities;
  const silent = { warn: () => undefined };
  return {
    activities: withFailureTypes(recorded, silent),
    calls,
    statuses,
    /** Each status write with the statuses it may move from (the saga's CONFIRMED names them). */
    statusWrites,
    /** How often each activity ran, per offer where it takes one ("releaseHold:offer-a"). */
    counts(): Record<string, number> {
      const counts: Record<string, number> = {};
      for (const { activity, input } of calls) {
        const key = typeof input.offerId === 'string' ? `${activity}:${input.offerId}` : activity;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      return counts;
    },
  };
}
