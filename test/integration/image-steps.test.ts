import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadManifests } from '../../deploy/check-manifests.js';
import { freePort } from '../../dev/process.js';
import { DEVELOPMENT_SECRETS } from '../../infra/secrets.js';
import { killOnExit } from '../chaos/fault-targets.js';
import { eventually } from '../support/eventually.js';
import { TEST_NAMESPACE } from '../support/namespace.js';
import { readImageDefinition, runStage, type Declared } from '../support/dockerfile.js';

/**
 * There is no Docker engine on this machine, so the image is never built here. This test carries out
 * deploy/Dockerfile's own steps instead (test/support/dockerfile.ts reads them from the file): the build
 * stage's compile, workflow bundle and web build, the deps stage's `npm ci --omit=dev`, the runtime
 * stage's copies, environment and USER; then starts the migrations job, the API and the worker with the
 * commands deploy/k8s gives them, as that numeric user, against this run's services.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const { stages, ignored } = readImageDefinition(root);
// The two RUNs done differently here, and why. The build stage's install is the checkout's own
// node_modules (dev/install.sh runs `npm ci` on the same package-lock.json); the production
// install is run as written, from npm's warm cache.
const BUILD_INSTALL = 'npm ci --no-audit --no-fund';
const PRODUCTION_INSTALL = 'npm ci --omit=dev --no-audit --no-fund';
// `docker build --build-arg GIT_COMMIT=$(git rev-parse HEAD)`: the image's worker polls as this build.
const GIT_COMMIT = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim();

let work: string;
let runtime: Declared;
let app: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  expect(stages.map((stage) => stage.name)).toEqual(['build', 'deps', 'runtime']);
  work = mkdtempSync(join(tmpdir(), 'tc-image-'));
  app = join(work, 'runtime');
  const dirs = new Map(stages.map((stage) => [stage.name, join(work, stage.name)]));
  // What a node base image gives RUN: no NODE_ENV, nothing of this test run's environment.
  const env = { PATH: process.env.PATH, HOME: process.env.HOME };
  const replace = {
    [BUILD_INSTALL]: (dir: string) => symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules')),
    [PRODUCTION_INSTALL]: (dir: string) => {
      const result = spawnSync('sh', ['-c', `${PRODUCTION_INSTALL} --prefer-offline`], { cwd: dir, env, encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`${PRODUCTION_INSTALL} failed:\n${result.stdout}${result.stderr}`);
    },
  };
  const declared = stages.map((stage) => runStage(stage, { context: root, ignored, dirs, env, replace, buildArgs: { GIT_COMMIT } }));
  expect(declared[0]!.runs).toContain(BUILD_INSTALL);
  expect(declared[1]!.runs).toEqual([PRODUCTION_INSTALL]);
  runtime = declared[2]!;
  // The image's files belong to root; its user may read them and write none (the root file system is read-only).
  chmodSync(work, 0o755);
  spawnSync('chmod', ['-R', 'a+rX,go-w', work]);
}, 600_000);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  if (work) rmSync(work, { recursive: true, force: true });
});

/** USER as setpriv's arguments: the numeric uid and gid the image runs as. */
function asImageUser(): string[] {
  const [, uid = '', gid = uid] = /^(\d+)(?::(\d+))?$/.exec(runtime.user ?? '') ?? [];
  return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'];
}

/** The container's args in deploy/k8s for a workload, run by the image's ENTRYPOINT. */
function manifestArgs(kind: string, name: string): string[] {
  const manifest = loadManifests(join(root, 'deploy/k8s')).manifests.find((m) => m.kind === kind && m.name === name);
  const spec = (manifest?.body.spec ?? {}) as { template?: { spec?: { containers?: { args?: string[] }[] } } };
  const args = spec.template?.spec?.containers?.[0]?.args;
  if (!args) throw new Error(`deploy/k8s has no args for ${kind}/${name}`);
  return args;
}

/** The image's environment, its /app paths under the runtime directory, with this run's settings. */
function processEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const image = Object.fromEntries(Object.entries(runtime.env).map(([name, value]) => [name, value.replace(/^\/app(?=\/|$)/, app)]));
  // HOME as a container runtime sets it for a user the image's /etc/passwd lacks (distroless's nonroot has
  // /home/nonroot); this machine's passwd has no such uid, and without HOME Node cannot tell a home directory.
  return { PATH: process.env.PATH, HOME: '/', ...image, NODE_ENV: 'development', LOG_LEVEL: 'info', ...settings };
}

/** Starts `args` as the image would (ENTRYPOINT is node), as its user, in its WORKDIR. */
function start(args: string[], env: NodeJS.ProcessEnv) {
  expect(runtime.entrypoint?.at(-1)).toMatch(/\/node$/);
  const [command, ...rest] = [...asImageUser(), process.execPath, ...args];
  const child = spawn(command!, rest, { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const unregister = killOnExit(() => child.kill('SIGKILL'));
  child.once('exit', unregister);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** The uid a running process has (the real one, from /proc). */
const uidOf = (pid: number) => /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];

const settings = (extra: Record<string, string>) => ({
  DATABASE_URL: inject('databaseUrl'),
  TEMPORAL_NAMESPACE: TEST_NAMESPACE,
  REDIS_KEY_PREFIX: `test:image-${randomUUID().slice(0, 8)}:`,
  API_HOST: '127.0.0.1',
  ...extra,
});

describe('the image, built by the Dockerfile\'s own steps (no Docker engine here)', () => {
  it('holds compiled JavaScript, the workflow bundle, the web client and production dependencies only', () => {
    expect(runtime.user).toMatch(/^[1-9]\d*:\d+$/);
    expect(existsSync(join(app, 'dist/api/server.js'))).toBe(true);
    expect(runtime.env.WORKER_BUILD_ID).toBe(GIT_COMMIT);
    expect(existsSync(join(app, runtime.env.WORKFLOW_BUNDLE_PATH!.replace(/^\/app\//, '')))).toBe(true);
    expect(existsSync(join(app, runtime.env.WEB_DIST_DIR!.replace(/^\/app\//, ''), 'index.html'))).toBe(true);
    // tsx, TypeScript and the test tools stay development dependencies: nothing transpiles at run time.
    for (const tool of ['tsx', 'typescript', 'vitest', 'esbuild']) expect(existsSync(join(app, 'node_modules', tool)), tool).toBe(false);
    expect(existsSync(join(app, 'node_modules/@temporalio/worker'))).toBe(true);
    // Sources are not shipped, only what runs.
    expect(existsSync(join(app, 'api'))).toBe(false);
  });

  it('runs as the numeric user deploy/k8s names for every pod', () => {
    const [uid, gid] = runtime.user!.split(':').map(Number);
    const pods = loadManifests(join(root, 'deploy/k8s')).manifests.filter((m) => ['Deployment', 'Job'].includes(m.kind));
    expect(pods.map((m) => m.name).sort()).toEqual(['travelconnect-api', 'travelconnect-migrate', 'travelconnect-worker']);
    for (const pod of pods) {
      const security = (pod.body.spec as { template: { spec: { securityContext: Record<string, unknown> } } }).template.spec.securityContext;
      expect({ pod: pod.name, user: security.runAsUser, group: security.runAsGroup }).toEqual({ pod: pod.name, user: uid, group: gid });
    }
  });

  it('its user can write nothing in the image, only in /tmp', () => {
    const write = (path: string) => spawnSync(asImageUser()[0]!, [...asImageUser().slice(1), process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(path)}, 'x')`], { cwd: app, encoding: 'utf8' });
    expect(write(join(app, 'written-by-the-app')).stderr).toContain('EACCES');
    expect(write(join(app, 'dist/written-by-the-app')).stderr).toContain('EACCES');
    const inTmp = join(tmpdir(), `tc-image-write-${randomUUID()}`);
    expect(write(inTmp).status).toBe(0);
    rmSync(inTmp, { force: true });
  });

  it('runs the migrations job as deploy/k8s starts it, as a non-root user', { timeout: 120_000 }, async () => {
    const job = start(manifestArgs('Job', 'travelconnect-migrate'), processEnv(settings({ MIGRATION_DATABASE_URL: inject('migrationDatabaseUrl') })));
    const code = await job.exited;
    expect(code, job.output()).toBe(0);
  });

  it('starts the API from the image\'s CMD: /healthz and /readyz answer, and it stops on SIGTERM', { timeout: 120_000 }, async () => {
    expect(manifestArgs('Deployment', 'travelconnect-api')).toEqual(runtime.cmd);
    const port = await freePort();
    const api = start(runtime.cmd!, processEnv(settings({ PORT: String(port), WORKER_METRICS_PORT: '0' })));
    const url = `http://127.0.0.1:${port}`;
    await eventually(() => fetch(`${url}/healthz`).then((r) => r.status, () => 0), (status) => status === 200 || api.child.exitCode !== null, { timeoutMs: 90_000, what: 'the API' });
    expect(api.child.exitCode, api.output()).toBeNull();
    expect(uidOf(api.child.pid!)).toBe(runtime.user!.split(':')[0]);
    const ready = await eventually(() => fetch(`${url}/readyz`).then((r) => r.status), (status) => status === 200, { timeoutMs: 30_000, what: '/readyz' });
    expect(ready).toBe(200);
    // The web client from WEB_DIST_DIR.
    expect(await (await fetch(`${url}/`)).text()).toContain('<div id="app">');
    api.child.kill('SIGTERM');
    expect(await api.exited, api.output()).toBe(0);
  });

  it('starts the worker as deploy/k8s does: it polls its task queue from the prebuilt bundle', { timeout: 150_000 }, async () => {
    const port = await freePort();
    const taskQueue = `test-image-${randomUUID()}`;
    const worker = start(manifestArgs('Deployment', 'travelconnect-worker'), processEnv(settings({ TEMPORAL_TASK_QUEUE: taskQueue, WORKER_METRICS_PORT: String(port) })));
    await eventually(async () => worker.output(), (text) => text.includes('"worker started"') || worker.child.exitCode !== null, { timeoutMs: 120_000, what: 'the worker to start' });
    expect(worker.child.exitCode, worker.output()).toBeNull();
    expect(uidOf(worker.child.pid!)).toBe(runtime.user!.split(':')[0]);
    // A Worker Deployment Version, the commit the image was built from.
    expect(worker.output()).toContain(`"buildId":"${GIT_COMMIT}"`);
    // Pollers on this task queue, in the SDK's metrics, with the development METRICS_TOKEN.
    const metrics = await eventually(
      () => fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${DEVELOPMENT_SECRETS.METRICS_TOKEN}` } }).then((r) => r.text(), () => ''),
      (text) => new RegExp(`temporal_num_pollers\\{[^}]*task_queue="${taskQueue}"`).test(text),
      { timeoutMs: 30_000, what: 'pollers in the worker metrics' },
    );
    expect(metrics).toContain(taskQueue);
    // The bundle was prebuilt: the worker did not run webpack at start-up.
    expect(worker.output()).not.toMatch(/bundle created/i);
    worker.child.kill('SIGTERM');
    expect(await worker.exited, worker.output()).toBe(0);
    expect(worker.output()).toContain('worker stopped');
  });
});
