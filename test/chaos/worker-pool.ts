import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { killOnExit } from './fault-targets.js';

/**
 * Booking worker processes serving one stack, SIGKILLed and replaced by the chaos monkey.
 * A worker that exits without being killed is reported: that is a crash, not chaos.
 */
export function createWorkerPool(options: { env: NodeJS.ProcessEnv; cwd: string; logFile: string; size: number; log: (line: string) => void }) {
  const live = new Set<ChildProcess>();
  const killed = new WeakSet<ChildProcess>();
  const startupMs: number[] = [];
  let crashes = 0;
  const output = createWriteStream(options.logFile, { flags: 'a' });
  const unregister = killOnExit(() => live.forEach((child) => child.kill('SIGKILL')));

  function startOne() {
    const began = Date.now();
    // Info level for the one line that says the worker polls.
    const child = spawn(process.execPath, ['--import', 'tsx', 'workers/booking.worker.ts'], {
      cwd: options.cwd,
      env: { ...options.env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    let ready = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      output.write(chunk);
      if (!ready && chunk.includes('"worker started"')) {
        ready = true;
        startupMs.push(Date.now() - began);
      }
    });
    child.stderr!.pipe(output, { end: false });
    child.once('exit', (code, signal) => {
      live.delete(child);
      if (killed.has(child)) return;
      crashes += 1;
      options.log(`worker ${child.pid} exited by itself (code ${code}, signal ${signal})`);
    });
  }

  function kill(child: ChildProcess): Promise<void> {
    killed.add(child);
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    return exited;
  }

  return {
    get size() {
      return live.size;
    },
    /** The live workers' process ids: Temporal records a worker's identity as `pid@host`. */
    get pids(): number[] {
      return [...live].flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
    },
    /** How long each worker took from spawn to polling, and how many exited unasked. */
    get stats() {
      return { startupMs: [...startupMs], crashes };
    },
    /** Resolves once as many workers have come up as the pool holds (the first fill). */
    async ready(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (startupMs.length < options.size) {
        if (Date.now() > deadline) throw new Error(`workers not polling after ${timeoutMs / 1000}s; see ${options.logFile}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    /** Starts processes until the pool is full again. */
    fill() {
      while (live.size < options.size) startOne();
    },
    /** SIGKILLs one live worker, chosen by `pick` (0 ≤ pick < 1); false when none was running. */
    async killOne(pick: number): Promise<boolean> {
      const victims = [...live];
      const victim = victims[Math.floor(pick * victims.length)];
      if (!victim) return false;
      await kill(victim);
      return true;
    },
    async stopAll() {
      unregister();
      await Promise.all([...live].map(kill));
      output.end();
    },
  };
}
export type WorkerPool = ReturnType<typeof createWorkerPool>;
