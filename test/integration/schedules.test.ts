import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { loadConfig } from '../../infra/config.js';
import { createTemporalClient } from '../../infra/temporal/connection.js';
import { ensureStalledWorkSchedule } from '../../infra/temporal/schedules.js';
import type { StalledWorkPolicy } from '../../workflows/stalled-work.workflow.js';
import { TEST_NAMESPACE } from '../support/namespace.js';

const MINUTE = 60_000;
const policy: StalledWorkPolicy = { mailAfterMs: 5 * MINUTE, mailGiveUpMs: 2 * 24 * 60 * MINUTE, bookingAfterMs: 15 * MINUTE, batchSize: 500 };
let client: Client;
const scheduleId = `stalled-work-schedule-test-${randomUUID().slice(0, 8)}`;
beforeAll(async () => {
  client = await createTemporalClient(loadConfig({ ...process.env, NODE_ENV: 'test', TEMPORAL_NAMESPACE: TEST_NAMESPACE }).temporal);
});
afterAll(async () => {
  await client?.schedule.getHandle(scheduleId).delete().catch(() => undefined);
  await client?.connection.close();
});

describe('ensureSchedule (issue 12)', () => {
  it('brings an existing Schedule to the configured interval and arguments, and leaves an unchanged one alone', async () => {
    const options = { scheduleId, taskQueue: 'schedule-test', everyMs: 5 * MINUTE, policy };
    expect(await ensureStalledWorkSchedule(client, options)).toBe('created');
    expect(await ensureStalledWorkSchedule(client, options)).toBe('exists');

    // The operator changed the sweep's interval and its policy, then restarted the worker.
    const changed = { ...options, everyMs: 7 * MINUTE, taskQueue: 'schedule-test-2', policy: { ...policy, batchSize: 50 } };
    expect(await ensureStalledWorkSchedule(client, changed)).toBe('updated');
    const described = await client.schedule.getHandle(scheduleId).describe();
    expect(described.spec.intervals?.map((i) => i.every)).toEqual([7 * MINUTE]);
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'stalledWorkSweepWorkflow', taskQueue: 'schedule-test-2', args: [{ ...policy, batchSize: 50 }] });
    expect(await ensureStalledWorkSchedule(client, changed)).toBe('exists');
  });
});
