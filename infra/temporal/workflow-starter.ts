import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { SagaInspector } from '../../activities/reconciliation.ports.js';
import type { WorkflowStarter } from '../../activities/stalled-work.activities.js';
import { createSagaInspector } from './saga-inspector.js';

/** The activities' view of Temporal: starts by id (a second start is harmless) and looks runs up. */
export function createWorkflowStarter(client: Client, taskQueue: string): WorkflowStarter & SagaInspector {
  return {
    ...createSagaInspector(client),
    async startNotification(outboxId) {
      try {
        // The same id the API uses: a delivery the API did start is found, not doubled.
        await client.workflow.start('notificationWorkflow', { workflowId: `notify-${outboxId}`, taskQueue, args: [outboxId] });
        return 'started';
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) return 'running';
        throw error;
      }
    },
    async exists(workflowId) {
      try {
        await client.workflow.getHandle(workflowId).describe();
        return true;
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return false;
        throw error;
      }
    },
  };
}
