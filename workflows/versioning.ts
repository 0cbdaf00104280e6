import type { VersioningBehavior, WorkflowDefinitionOptions } from '@temporalio/common';
import { workflowInfo } from '@temporalio/workflow';

/**
 * A workflow type's Worker Versioning behaviour (README "Deploying workflow changes"), for
 * setWorkflowOptions. Named only on a versioned worker: the server refuses a workflow task that names
 * one from an unversioned worker, and development and the tests run unversioned ones.
 */
export function versioning(behavior: VersioningBehavior): (() => WorkflowDefinitionOptions) & { behavior: VersioningBehavior } {
  // An unversioned worker reports a version too (its SDK build id) but with no deployment name.
  const options = (): WorkflowDefinitionOptions => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: behavior } : {});
  return Object.assign(options, { behavior });
}
