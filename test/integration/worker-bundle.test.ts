import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowBundleOptions } from '../../infra/temporal/connection.js';
import { startStack, type Stack } from '../support/stack.js';
import { json, travellerOf } from '../support/booking-client.js';

let stack: Stack;
beforeAll(async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'tc-bundle-')), 'workflow-bundle.js');
  writeFileSync(path, (await bundleWorkflowCode({ ...workflowBundleOptions(), logger: undefined })).code);
  stack = await startStack({
    workerTuning: {
      workflowBundlePath: path,
      maxCachedWorkflows: 4,
      maxConcurrentWorkflowTaskExecutions: 2,
      maxConcurrentActivityTaskExecutions: 4,
    },
  });
});
afterAll(async () => {
  await stack?.stop();
});

describe('a tuned worker on a prebuilt workflow bundle', () => {
  it('runs bookings to CONFIRMED', async () => {
    const traveller = await travellerOf(stack);
    const ids = await Promise.all(
      [0, 1, 2].map(async (i) => (await json(await traveller.book(await traveller.bookingBody({}, { departureDate: `2027-04-0${i + 1}` })))).bookingId as string),
    );
    for (const id of ids) expect((await traveller.settled(id)).status).toBe('CONFIRMED');
  });
});
