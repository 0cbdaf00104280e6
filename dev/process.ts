import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname } from 'node:path';
import type { DevConfig } from './config.js';

/** Resolves true when something accepts a TCP connection on host:port within timeoutMs. */
export function portAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Sends one request over a raw socket and resolves with whatever came back first ('' on failure). */
/** A port nothing listens on right now (for a private server a test or a benchmark starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function rawExchange(host: string, port: number, request: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port }, () => socket.write(request));
    const done = (reply: string) => {
      socket.destroy();
      resolve(reply);
    };
    socket.setTimeout(timeoutMs, () => done(''));
    socket.once('data', (data) => done(data.toString()));
    socket.once('error', () => done(''));
  });
}

/** Last `lines` lines of a log file since spawnLogged's latest run marker, or a note that there is none. */
export function tail(file: string, lines = 20): string {
  try {
    const text = readFileSync(file, 'utf8');
    // Earlier runs' output would only mislead whoever reads the error.
    return text.slice(Math.max(0, text.lastIndexOf('\n--- '))).trim().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}

/** The host and numeric port of a URL or host:port string, with the scheme's default port. */
export function hostPort(address: string, defaultPort: number): { host: string; port: number } {
  const url = new URL(address.includes('://') ? address : `tcp://${address}`);
  // URL keeps IPv6 brackets, which net.connect does not want.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  return { host, port: url.port ? Number(url.port) : defaultPort };
}

/** Whether host names this machine, i.e. whether we could start a server for it. */
export function isLocalHost(host: string): boolean {
  return ['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::'].includes(host);
}

export interface Spawned {
  child: ChildProcess;
  /** Set once the process has exited, so waiters can fail fast instead of timing out. */
  exited: { code: number | null; signal: NodeJS.Signals | null } | null;
}

/** Starts a command with stdout and stderr appended to logFile (created with its directory). */
export function spawnLogged(
  command: string,
  args: readonly string[],
  opts: { logFile: string; cwd: string; env?: NodeJS.ProcessEnv },
): Spawned {
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const fd = openSync(opts.logFile, 'a');
  writeSync(fd, `\n--- ${new Date().toISOString()} ${command} ${args.join(' ')}\n`);
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', fd, fd],
    detached: false,
  });
  // The child holds its own copy of the descriptor.
  closeSync(fd);
  const spawned: Spawned = { child, exited: null };
  child.once('exit', (code, signal) => {
    spawned.exited = { code, signal };
  });
  // A missing binary surfaces as an 'error' event; without a listener it would crash the caller.
  child.once('error', (error) => {
    spawned.exited ??= { code: null, signal: null };
    appendFileSync(opts.logFile, `spawn failed: ${error.message}\n`);
  });
  return spawned;
}

/** Ends a child: SIGTERM, then SIGKILL if it is still alive after graceMs. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
  if ((await Promise.race([exited, timer])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Polls ready() until it resolves true; throws naming the service with its log tail on timeout or early exit. */
export async function waitUntilReady(
  name: string,
  ready: () => Promise<boolean>,
  opts: { timeoutMs: number; logFile: string; spawned?: Spawned; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await ready().catch(() => false)) return;
    const exited = opts.spawned?.exited;
    let reason: string | null = null;
    if (exited) reason = `exited (code ${exited.code ?? '-'}, signal ${exited.signal ?? '-'}) before it was ready`;
    else if (Date.now() > deadline) reason = `was not ready after ${opts.timeoutMs / 1000}s`;
    if (reason) {
      throw new Error(`${name} ${reason}; last lines of ${opts.logFile}:\n${tail(opts.logFile)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 200));
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (optionally feeding stdin) and collects its output; never rejects. */
export function run(
  command: string,
  args: readonly string[],
  opts: { input?: string; cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}${error.message}` });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // EPIPE when the command is missing or ignores stdin
    child.stdin.end(opts.input ?? '');
  });
}

/** One service: started=false means it was already running (or is remote) and stop() leaves it alone. */
export interface ServiceHandle {
  name: string;
  started: boolean;
  stop(): Promise<void>;
}

/** What each service launcher gets. */
export interface ServiceContext {
  config: DevConfig;
  root: string;
  log: (line: string) => void;
  logFile: string;
}

/** A handle for a service somebody else runs: stop() leaves it alone. */
export function reusedHandle(name: string): ServiceHandle {
  return { name, started: false, stop: async () => {} };
}

/** A handle for a service we started; stop() does its work once however often it is called. */
export function startedHandle(name: string, log: (line: string) => void, stop: () => Promise<void>): ServiceHandle {
  let stopping: Promise<void> | null = null;
  return { name, started: true, stop: () => (stopping ??= stop().then(() => log(`${name}: stopped`))) };
}

/** Seconds since a Date.now() stamp, for log lines. */
export const since = (began: number) => `${((Date.now() - began) / 1000).toFixed(1)}s`;

/** Reuses whatever answers on host:port, else runs the command as our child until ready() holds. */
export async function childService(
  name: string,
  ctx: ServiceContext,
  spec: {
    host: string; port: number; command: string; args: string[]; env?: NodeJS.ProcessEnv;
    timeoutMs: number; graceMs?: number; ready?: () => Promise<boolean>;
  },
): Promise<ServiceHandle> {
  const where = `${spec.host}:${spec.port}`;
  if (await portAnswers(spec.host, spec.port)) {
    ctx.log(`${name}: reusing ${where}`);
    return reusedHandle(name);
  }
  if (!isLocalHost(spec.host)) throw new Error(`${name}: nothing answers on ${where}, and a remote host cannot be started from here`);
  if (spec.command.includes('/') && !existsSync(spec.command)) {
    throw new Error(`${name}: ${spec.command} is missing; run bash dev/install.sh`);
  }
  const began = Date.now();
  const spawned = spawnLogged(spec.command, spec.args, { logFile: ctx.logFile, cwd: ctx.root, env: spec.env });
  try {
    const ready = spec.ready ?? (() => portAnswers(spec.host, spec.port));
    await waitUntilReady(name, ready, { timeoutMs: spec.timeoutMs, logFile: ctx.logFile, spawned });
  } catch (error) {
    await stopChild(spawned.child, 2000);
    throw error;
  }
  ctx.log(`${name}: started on ${where} (pid ${spawned.child.pid}) in ${since(began)}`);
  return startedHandle(name, ctx.log, () => stopChild(spawned.child, spec.graceMs ?? 5000));
}
