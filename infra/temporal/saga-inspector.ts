import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { SagaInspector } from '../../activities/reconciliation.ports.js';
import type { SagaView } from '../../domain/reconciliation.js';
import { BookingStatusAttribute } from '../../workflows/search-attributes.js';

// A query needs a worker polling the saga's queue; without one it would wait for the RPC's own deadline.
const QUERY_DEADLINE_MS = 5_000;

const EXECUTIONS = new Set<string>(['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT', 'CONTINUED_AS_NEW']);

/** The reconciler's view of a booking saga: describe, then (while it runs) its `status` query. */
export function createSagaInspector(client: Client): SagaInspector {
  async function describe(workflowId: string) {
    try {
      const description = await client.workflow.getHandle(workflowId).describe();
      const name = description.status.name;
      return { execution: (EXECUTIONS.has(name) ? name : 'UNKNOWN') as SagaView['execution'], description };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return { execution: 'NOT_FOUND' as const };
      throw error;
    }
  }

  return {
    async inspectExecution(workflowId) {
      return (await describe(workflowId)).execution;
    },

    async inspectSaga(workflowId) {
      const handle = client.workflow.getHandle(workflowId);
      const { execution, description } = await describe(workflowId);
      if (execution !== 'RUNNING' || !description) return { execution };
      try {
        const state = await client.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query<{ status: string }>('status'));
        return { execution, status: state.status };
      } catch {
        // No worker answers: the status the saga last published as a search attribute.
        const published = description.typedSearchAttributes.get(BookingStatusAttribute);
        return { execution, ...(published ? { status: published } : {}) };
      }
    },
  };
}
