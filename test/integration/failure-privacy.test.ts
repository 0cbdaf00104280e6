import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { OutboxMessage } from '../../infra/db/entities.js';
import { createStripeGateway } from '../../infra/stripe/stripe.gateway.js';
import { createWorkflowStarter } from '../../infra/temporal/workflow-starter.js';
import { createActivityDeps } from '../../workers/activity-deps.js';
import { eventually } from '../support/eventually.js';
import { startRejectingSmtp } from '../support/rejecting-smtp.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * Failure messages and stack traces travel to the Temporal server beside the payloads; an SMTP
 * refusal names the recipient. Neither the server's history nor describe() may hold it in clear.
 */
let stack: Stack;
let smtp: Awaited<ReturnType<typeof startRejectingSmtp>>;
beforeAll(async () => {
  smtp = await startRejectingSmtp();
  stack = await startStack({ env: { MAIL_TRANSPORT: 'smtp', SMTP_URL: smtp.url } });
});
afterAll(async () => {
  await stack?.stop();
  await smtp?.stop();
});

/** Every string and every byte string (as text) in a protobuf object, as the server stores it. */
function clearText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('latin1');
  if (Array.isArray(value)) return value.map(clearText).join('\n');
  if (value && typeof value === 'object') return Object.values(value).map(clearText).join('\n');
  return '';
}

/** The line of `value`'s clear text that holds `marker`, if any (a short failure message, not the whole dump). */
function lineWith(value: unknown, marker: string): string | undefined {
  return clearText(value).split('\n').find((line) => line.includes(marker));
}

async function rawHistory(workflowId: string) {
  const { history } = await stack.temporal.workflowService.getWorkflowExecutionHistory({
    namespace: stack.config.temporal.namespace,
    execution: { workflowId },
  });
  return history?.events ?? [];
}

async function queueMailTo(marker: string) {
  const signup = await fetch(`${stack.apiUrl}/api/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: marker, password: 'correct horse battery staple 42', name: 'Ada Lovelace' }),
  });
  expect(signup.status).toBe(202);
  const row = await eventually(() => stack.orm.em.fork().findOne(OutboxMessage, { recipient: marker }), (found) => found !== null, { what: 'the queued mail' });
  return row!.id;
}

describe('failures that reach Temporal', () => {
  it("keep a refused recipient's address out of describe() while the notification retries", async () => {
    const marker = `leak-${randomUUID()}@example.test`;
    const outboxId = await queueMailTo(marker);
    const handle = stack.temporal.workflow.getHandle(`notify-${outboxId}`);
    const described = await eventually(
      () => handle.describe(),
      (d) => Boolean(d.raw.pendingActivities?.[0]?.lastFailure),
      { what: 'a failed delivery attempt', timeoutMs: 30_000 },
    );
    const lastFailure = described.raw.pendingActivities![0]!.lastFailure!;
    expect(lineWith(lastFailure, marker.split('@')[0]!)).toBeUndefined();
    // Whatever the boundary writes, the message itself travels encrypted (infra/temporal/failure-converter.cjs).
    expect(lastFailure).toMatchObject({ message: 'Encoded failure', stackTrace: '' });
    expect(lastFailure.encodedAttributes?.metadata).toBeDefined();
    expect(lineWith(await rawHistory(handle.workflowId), marker.split('@')[0]!)).toBeUndefined();
    await handle.terminate('test over');
  });

  it('keep it out of the history when the failure ends the workflow, and still decode for those holding the key', async () => {
    const marker = `leak-${randomUUID()}@example.test`;
    const outboxId = await queueMailTo(marker);
    await stack.temporal.workflow.getHandle(`notify-${outboxId}`).terminate('the test delivers it once itself');
    const taskQueue = `failure-privacy-${randomUUID()}`;
    const activityDeps = createActivityDeps(stack.config, stack.orm, {
      providers: new Map(),
      payments: createStripeGateway(stack.stripe),
      keys: stack.keys,
      workflows: createWorkflowStarter(stack.temporal, taskQueue),
      log: pino({ level: 'silent' }),
    });
    const connection = await NativeConnection.connect({ address: stack.config.temporal.address });
    const worker = await Worker.create({
      connection,
      namespace: stack.config.temporal.namespace,
      taskQueue,
      workflowsPath: fileURLToPath(new URL('../support/workflows/deliver-once.workflow.ts', import.meta.url)),
      activities: createActivities(activityDeps.deps),
      dataConverter: stack.dataConverter,
    });
    const workflowId = `deliver-once-${randomUUID()}`;
    const failure = await worker.runUntil(async () => {
      const run = await stack.temporal.workflow.start('deliverOnceWorkflow', { taskQueue, workflowId, args: [outboxId] });
      return run.result().then(() => undefined, (error: unknown) => error);
    });
    await connection.close();
    activityDeps.close();

    const events = await rawHistory(workflowId);
    expect(events.some((e) => e.workflowExecutionFailedEventAttributes)).toBe(true);
    expect(events.some((e) => e.activityTaskFailedEventAttributes)).toBe(true);
    expect(lineWith(events, marker.split('@')[0]!)).toBeUndefined();
    const failed = events.find((e) => e.activityTaskFailedEventAttributes)!.activityTaskFailedEventAttributes!.failure;
    expect(failed).toMatchObject({ message: 'Encoded failure', stackTrace: '' });
    // Through the codec the failure reads as the activity boundary wrote it: a code, no supplier text.
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause?.cause as { type?: string; message?: string; nonRetryable?: boolean } | undefined;
    expect(cause).toMatchObject({ type: 'ACTIVITY_ERROR', nonRetryable: false });
    expect(cause?.message).toMatch(/^deliverNotification failed \(Error EENVELOPE\)/);
  });
});
