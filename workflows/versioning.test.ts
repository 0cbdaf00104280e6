import { describe, expect, it } from 'vitest';
import * as workflows from './index.js';

// README "Deploying workflow changes": short sagas are pinned to the build they started on; what runs for
// days (or continues as new run after run) moves to each new build and guards its changes with patched().
describe('Worker Versioning behaviour', () => {
  it('is named by every workflow type the worker registers, not left to the worker default', () => {
    // versioning() (./versioning.ts) is the getter setWorkflowOptions holds; it carries its behaviour.
    const behaviours = Object.fromEntries(Object.entries(workflows).map(([name, fn]) => {
      const options = (fn as { workflowDefinitionOptions?: { behavior?: string } }).workflowDefinitionOptions;
      return [name, options?.behavior];
    }));
    expect(behaviours).toEqual({
      bookingWorkflow: 'PINNED',
      cancellationWorkflow: 'PINNED',
      refundWorkflow: 'PINNED',
      auditCheckpointWorkflow: 'PINNED',
      stalledWorkSweepWorkflow: 'PINNED',
      notificationWorkflow: 'AUTO_UPGRADE',
      accountDeletionWorkflow: 'AUTO_UPGRADE',
      retentionPurgeWorkflow: 'AUTO_UPGRADE',
      reconciliationWorkflow: 'AUTO_UPGRADE',
    });
  });
});
