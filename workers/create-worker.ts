import type { NativeConnection} from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import type { Config } from '../infra/config.js';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { workflowsPath } from '../infra/temporal/connection.js';

/** A booking worker on the given connection; the entry point and the tests build it the same way. */
export async function createBookingWorker(options: {
  connection: NativeConnection;
  temporal: Config['temporal'];
  deps: ActivityDeps;
  taskQueue?: string;
}): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.temporal.namespace,
    taskQueue: options.taskQueue ?? options.temporal.taskQueue,
    workflowsPath: workflowsPath(),
    activities: createActivities(options.deps),
  });
}
