import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/process.js';
import { killOnExit } from '../chaos/fault-targets.js';
import { eventually } from '../support/eventually.js';
import { startStack, type Stack } from '../support/stack.js';

// Production profile review: the worker's Prometheus port answered anyone who reached it. It is the
// worker entry point itself here, as deployed, serving this stack's task queue.
const TOKEN = 'worker-metrics-test-token-0123456789abcdef';
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { METRICS_TOKEN: TOKEN } });
});
afterAll(async () => {
  await stack?.stop();
});

describe('the worker process metrics endpoint', () => {
  it('serves the Temporal SDK metrics to the holder of METRICS_TOKEN only', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'workers/booking.worker.ts'], {
      env: { ...stack.workerEnv, WORKER_METRICS_PORT: String(port), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const unregister = killOnExit(() => child.kill('SIGKILL'));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await eventually(async () => output, (text) => text.includes('"worker started"') || child.exitCode !== null, { timeoutMs: 90_000, what: 'the worker to poll' });
      expect(child.exitCode, output).toBeNull();
      const url = `http://127.0.0.1:${port}/metrics`;
      for (const authorization of [undefined, `Bearer ${TOKEN}x`, `Basic ${Buffer.from(`prometheus:${TOKEN}`).toString('base64')}`]) {
        const refused = await fetch(url, { headers: authorization === undefined ? {} : { authorization } });
        expect(refused.status, authorization).toBe(401);
        expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
        expect(await refused.text()).not.toContain('temporal_');
      }
      // Core's own metrics (pollers, task slots), through the token.
      const text = await eventually(
        () => fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => (r.status === 200 ? r.text() : '')),
        (body) => /temporal_(num_pollers|worker_task_slots_available)/.test(body),
        { timeoutMs: 30_000, what: "the SDK's worker metrics" },
      );
      expect(text).toMatch(/# TYPE temporal_\w+ (counter|gauge|histogram)/);
      expect(text).toContain(`task_queue="${stack.taskQueue}"`);
    } finally {
      child.kill('SIGKILL');
      unregister();
    }
  });
});
