import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time.js';
import { temporal } from '@temporalio/proto';
import type { TemporalCluster } from '../../dev/cluster/temporal-cluster.js';
import { run, type RunResult } from '../../dev/process.js';

/** WORKER_DEPLOYMENT_NAME's default (infra/config.ts): the deployment every booking worker belongs to. */
export const DEPLOYMENT_NAME = 'travelconnect-booking';

/** What deploy/Dockerfile bakes into the image as WORKER_BUILD_ID: the commit it was built from. */
export function gitBuildId(root: string): string {
  const head = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, encoding: 'utf8' });
  if (head.status !== 0) throw new Error(`git rev-parse HEAD failed: ${head.stderr.trim()}`);
  return head.stdout.trim();
}

export type Cli = (args: string[]) => Promise<RunResult>;

/** The Temporal CLI (.tools/bin/temporal) against the cluster over mTLS, as an operator with a certificate of their own. */
export async function operatorCli(root: string, cluster: TemporalCluster, namespace: string): Promise<Cli> {
  const operator = await cluster.issueClient('operator');
  return (args) => run(join(root, '.tools', 'bin', 'temporal'), [
    ...args,
    '--namespace', namespace, '--address', cluster.address,
    '--tls-ca-path', cluster.caFile, '--tls-server-name', cluster.serverName,
    '--tls-cert-path', operator.certFile, '--tls-key-path', operator.keyFile,
  ], { timeoutMs: 60_000 });
}

/**
 * The deploy step of a roll, as README "Deploying workflow changes" has the operator run it: once the
 * build's workers poll, make it the deployment's current version. The server refuses until it has seen
 * them poll every task queue of the current version, so this asks again until then.
 */
export async function setCurrentVersion(cli: Cli, buildId: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await cli(['worker', 'deployment', 'set-current-version', '--deployment-name', DEPLOYMENT_NAME, '--build-id', buildId, '--yes']);
    if (result.code === 0) return;
    if (Date.now() > deadline) throw new Error(`set-current-version ${buildId} kept failing: ${(result.stderr || result.stdout).trim().slice(-600)}`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/**
 * The drain rule: the server's own test for a version's drainage (open workflows pinned to it),
 * asked of visibility directly rather than waiting out its refresh interval (matching.wv.* settings).
 */
export async function pinnedRunning(client: Client, buildId: string): Promise<number> {
  const { count } = await client.workflow.count(`BuildIds = 'pinned:${DEPLOYMENT_NAME}:${buildId}' AND ExecutionStatus = 'Running'`);
  return count;
}

const { EventType, WorkflowTaskFailedCause } = temporal.api.enums.v1;

/** Each workflow task of one workflow as its history records it: who completed it, and when. */
export interface TaskRecord {
  /** The build the worker reported as its Worker Deployment Version (none from an unversioned worker). */
  version: string | undefined;
  /** The build of the worker process that completed it, told apart by its identity (pid@host). */
  process: string | undefined;
  at: number;
}

/**
 * Reads a workflow's history: its workflow tasks, why each failed one failed (a nondeterminism fails one;
 * so does a signal that reaches the server while the task completing the workflow is open, which the
 * server refuses as UNHANDLED_COMMAND and the worker then runs again with the signal) and how it ended.
 */
export async function workflowTasks(client: Client, workflowId: string, buildOfIdentity: (identity: string) => string | undefined) {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const tasks: TaskRecord[] = events
    .filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    .map((event) => {
      const attributes = event.workflowTaskCompletedEventAttributes!;
      return {
        version: attributes.deploymentVersion?.buildId || undefined,
        process: buildOfIdentity(attributes.identity ?? ''),
        at: event.eventTime ? tsToMs(event.eventTime) : 0,
      };
    });
  const failedTasks = events
    .filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)
    .map((event) => WorkflowTaskFailedCause[event.workflowTaskFailedEventAttributes?.cause ?? 0] ?? 'unknown cause');
  const completed = events.some((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  return { tasks, failedTasks, completed };
}
