import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { BookingWorkflowInput } from '../workflows/booking.workflow.js';

/**
 * The saga-drain benchmark's Temporal floor: a workflow with the booking saga's shape — the same
 * activities in the same order, with the same input and retry options — whose activities do
 * nothing. Bundled on its own by the benchmark's worker (workflowsPath → this file).
 */
export interface NoopSagaActivities {
  noopStep(input: { bookingId: string; workflowId: string; step: string }): Promise<{ ok: true }>;
}

const { noopStep } = proxyActivities<NoopSagaActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 12 },
});
const local = proxyLocalActivities<NoopSagaActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds' },
});

/** The booking saga's forward path for one offer per booking, as steps: 5 + 2 per offer activities. */
export function sagaSteps(offers: number): string[] {
  return [
    'repriceOffers',
    ...Array.from({ length: offers }, () => 'holdOffer'),
    'setBookingStatus:HELD',
    'authorizePayment',
    ...Array.from({ length: offers }, () => 'confirmHold'),
    'capturePayment',
    'setBookingStatus:CONFIRMED',
  ];
}

/** Every step a regular activity, as in the booking saga. */
export async function noopSagaWorkflow(input: BookingWorkflowInput): Promise<string> {
  const workflowId = `noop-${input.bookingId}`;
  for (const step of sagaSteps(input.offers.length)) await noopStep({ bookingId: input.bookingId, workflowId, step });
  return 'CONFIRMED';
}

/** The status steps as local activities: the floor of a saga that wrote its status rows locally. */
export async function noopSagaLocalStatusWorkflow(input: BookingWorkflowInput): Promise<string> {
  const workflowId = `noop-${input.bookingId}`;
  for (const step of sagaSteps(input.offers.length)) {
    await (step.startsWith('setBookingStatus') ? local : { noopStep }).noopStep({ bookingId: input.bookingId, workflowId, step });
  }
  return 'CONFIRMED';
}
