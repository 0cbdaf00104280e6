import { Worker, type NativeConnection } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type { Config } from '../infra/config.js';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { workflowsPath } from '../infra/temporal/connection.js';

/** A booking worker on the given connection; the entry point and the tests build it the same way. */
export async function createBookingWorker(options: {
  connection: NativeConnection;
  temporal: Config['temporal'];
  deps: ActivityDeps;
  tuning?: Config['worker'];
  taskQueue?: string;
  dataConverter?: DataConverter;
}): Promise<Worker> {
  const { workflowBundlePath, ...tuning } = options.tuning ?? {};
  const defined = Object.fromEntries(Object.entries(tuning).filter(([, value]) => value !== undefined));
  return Worker.create({
    connection: options.connection,
    namespace: options.temporal.namespace,
    taskQueue: options.taskQueue ?? options.temporal.taskQueue,
    ...(workflowBundlePath ? { workflowBundle: { codePath: workflowBundlePath } } : { workflowsPath: workflowsPath() }),
    activities: createActivities(options.deps),
    dataConverter: options.dataConverter,
    ...defined,
  });
}
