import { condition, defineSignal, proxyActivities, setHandler, setWorkflowOptions } from '@temporalio/workflow';
import type { createErasureActivities } from '../activities/erasure.activities.js';
import { RECORD_STEP } from './activity-options.js';
import { versioning } from './versioning.js';

const { eraseAccount } = proxyActivities<ReturnType<typeof createErasureActivities>>({ ...RECORD_STEP, startToCloseTimeout: '1 minute' });

/** Sent when the owner signs in again during the grace period: the account stays. */
export const restoreAccountSignal = defineSignal('restore');

export interface AccountDeletionInput {
  userId: string;
  graceMs: number;
}

// Worker Versioning: AUTO_UPGRADE. It waits out the grace period (30 days), far longer than any build is kept,
// so it moves to each new build at its next task: every change to it goes behind patched() (README "Deploying workflow changes").
setWorkflowOptions(versioning('AUTO_UPGRADE'), accountDeletionWorkflow);

/**
 * Right to erasure (workflow id `account-deletion-<userId>`): the API has already revoked the
 * sessions; after the grace period, unless restored, the account's PII is erased and its data
 * key destroyed.
 */
export async function accountDeletionWorkflow(input: AccountDeletionInput): Promise<'restored' | 'erased'> {
  let restored = false;
  setHandler(restoreAccountSignal, () => {
    restored = true;
  });
  if (await condition(() => restored, input.graceMs)) return 'restored';
  await eraseAccount(input.userId);
  return 'erased';
}
