// What the worker's workflow bundle loads.
export { bookingWorkflow } from './booking.workflow.js';
export { cancellationWorkflow } from './cancellation.workflow.js';
export { retentionPurgeWorkflow } from './retention.workflow.js';
export { notificationWorkflow } from './notification.workflow.js';
export { accountDeletionWorkflow } from './account-deletion.workflow.js';
export { auditCheckpointWorkflow } from './audit-checkpoint.workflow.js';
export { stalledWorkSweepWorkflow } from './stalled-work.workflow.js';
export { reconciliationWorkflow } from './reconciliation.workflow.js';
export { refundWorkflow } from './refund.workflow.js';
