import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DEVELOPMENT_SECRETS } from '../../infra/secrets.js';
import { eventually } from '../support/eventually.js';

const API_PORT = 3110;
const SANDBOX_PORT = 4110; // not 4190: fetch refuses that port (the spec's "bad ports")
const WORKER_METRICS_PORT = 9474;

const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** Runs `npm run up` until it says it is up, checks the API, then sends Ctrl-C to its process group. */
async function upThenCtrlC(): Promise<string> {
  const child = spawn('npm', ['run', 'up'], {
    detached: true, // its own process group, as a terminal would give it
    env: {
      ...process.env,
      PORT: String(API_PORT),
      SANDBOX_PROVIDER_PORT: String(SANDBOX_PORT),
      SANDBOX_PROVIDER_URL: `http://127.0.0.1:${SANDBOX_PORT}`,
      LOG_LEVEL: 'warn',
      WORKER_METRICS_PORT: String(WORKER_METRICS_PORT),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + 120_000;
  while (!output.includes('TravelConnect is up')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`up did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const health = await fetch(`http://127.0.0.1:${API_PORT}/healthz`);
  expect(health.status).toBe(200);
  // The web app, built by up and served by the API at /, is the first URL it prints.
  expect(output).toMatch(/TravelConnect is up[^\n]*\n\[up\] {3}Web app {6}http:\/\/127\.0\.0\.1:\d+\//);
  const app = await fetch(`http://127.0.0.1:${API_PORT}/`);
  expect(app.headers.get('content-type')).toContain('text/html');
  expect(await app.text()).toContain('<div id="app">');
  const search = await fetch(`http://127.0.0.1:${API_PORT}/api/v1/search/flights?origin=JFK&destination=LHR&departureDate=2027-01-10`);
  expect(((await search.json()) as { offers: unknown[] }).offers.length).toBeGreaterThan(0);
  // The worker's SDK metrics are served for Prometheus, with the metrics token as the API's are.
  const workerMetrics = `http://127.0.0.1:${WORKER_METRICS_PORT}/metrics`;
  const metrics = await eventually(
    () => fetch(workerMetrics, { headers: { authorization: `Bearer ${DEVELOPMENT_SECRETS.METRICS_TOKEN}` } }).then((r) => r.text(), () => ''),
    (text) => /temporal_/.test(text),
    { timeoutMs: 60_000, what: 'the worker metrics endpoint' },
  );
  expect(metrics).toMatch(/temporal_(worker|request|num_pollers|workflow)/);
  expect((await fetch(workerMetrics)).status).toBe(401);

  process.kill(-child.pid!, 'SIGINT');
  // npm may exit on the signal at once; what counts is that up.ts finishes stopping.
  const stopBy = Date.now() + 60_000;
  while (!output.includes('[up] stopped') && Date.now() < stopBy) await new Promise((r) => setTimeout(r, 250));
  await exited;
  return output;
}

describe('npm run up', () => {
  it('comes up twice in a row, reuses running services and stops only what it started on Ctrl-C', { timeout: 300_000 }, async () => {
    for (let run = 0; run < 2; run += 1) {
      const output = await upThenCtrlC();
      // The test run's own services were already up: they are reused and left running.
      expect(output).toMatch(/temporal: reusing/);
      expect(output).toMatch(/sandbox: started/);
      expect(output).toContain('[up] stopped');
      expect(await answers(API_PORT)).toBe(false);
      expect(await answers(SANDBOX_PORT)).toBe(false);
      expect(await answers(7233)).toBe(true);
    }
  });
});
