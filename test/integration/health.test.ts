import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/process.js';
import { startStack, type Stack } from '../support/stack.js';
import { signIn } from '../support/sign-in.js';
import { eventually } from '../support/eventually.js';
import { json } from '../support/booking-client.js';

// A Redis of this test's own, so stopping it disturbs nothing else.
let redisPort: number;
let redis: ChildProcess | undefined;
let stack: Stack;


async function startRedis(): Promise<void> {
  redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await until(async () => (await readiness()).status === 200);
}

async function stopRedis(): Promise<void> {
  const exited = new Promise((resolve) => redis!.once('exit', resolve));
  redis!.kill('SIGKILL');
  await exited;
}

async function readiness() {
  return stack.app.request('/readyz');
}

const until = (condition: () => Promise<boolean>) => eventually(condition, (ok) => ok, { what: 'the condition' });

beforeAll(async () => {
  redisPort = await freePort();
  stack = await startStack({ env: { REDIS_URL: `redis://127.0.0.1:${redisPort}/0` } });
  await startRedis();
});
afterAll(async () => {
  await stack?.stop();
  redis?.kill('SIGKILL');
});

describe('health, readiness and metrics', () => {
  it('is live without dependencies and ready when Postgres, Redis and Temporal answer', async () => {
    expect((await stack.app.request('/healthz')).status).toBe(200);
    const ready = await readiness();
    expect(ready.status).toBe(200);
    expect(await json(ready)).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok', temporal: 'ok' } });
  });

  it('answers 503 naming Redis while it is down, and 200 again once it is back, without a restart', async () => {
    await stopRedis();
    await until(async () => (await readiness()).status === 503);
    const down = await readiness();
    expect(down.headers.get('content-type')).toContain('application/problem+json');
    const problem = await json(down);
    expect(problem).toMatchObject({ code: 'SERVICE_UNAVAILABLE', checks: { postgres: 'ok', redis: 'down', temporal: 'ok' } });
    expect(problem.detail).toContain('redis');

    await startRedis();
    expect(await json(await readiness())).toMatchObject({ status: 'ready' });
  });

  it('exposes Prometheus metrics: latency by route template and bookings by status', async () => {
    await stack.app.request('/api/v1/bookings/00000000-0000-4000-8000-000000000000', { headers: { ...(await signIn(stack)).auth } });
    const response = await stack.app.request('/metrics', { headers: { authorization: `Bearer ${stack.config.metrics.token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/api\/v1\/bookings\/:id"[^}]*status="404"/);
    expect(text).not.toContain('00000000-0000-4000-8000-000000000000');
    expect(text).toContain('# TYPE bookings gauge');
    expect(text).toContain('process_cpu_seconds_total');
  });
});
