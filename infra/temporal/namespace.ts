import type { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';

/** Registers the namespace when the server lacks it (development and tests); waits until it answers. */
export async function ensureNamespace(connection: Connection, namespace: string, retentionDays = 3): Promise<void> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return;
  } catch {
    // Not there yet: register it below.
  }
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs(retentionDays * 86_400_000),
    });
  } catch (error) {
    // A concurrent registration won; anything else is real.
    if (!/already exists/i.test(String((error as Error).message))) throw error;
  }
  // A new namespace reaches every service of the server only after its cache refreshes.
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await connection.operatorService.listSearchAttributes({ namespace });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
