import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../dev/process.js';
import { killOnExit } from '../chaos/fault-targets.js';

/** How a production API pointed at a store it must not trust ended up. */
export interface Distrust {
  /** Its exit code; undefined while it still ran at the end (serving, never ready). */
  exitCode: number | null | undefined;
  /** The last /readyz status it answered, if it ever listened. */
  readyz: number | undefined;
  /** Everything it wrote to stdout and stderr. */
  output: string;
}

// One exit hook for every API started here, not one each (the stack holds several already).
const running = new Set<ChildProcess>();
let unregister: (() => void) | undefined;

/**
 * Starts one production API with `env` and watches it until it exits, answers /readyz 200 (it trusted
 * the store: the caller's assertion fails), or has answered 503 three times since listening (it
 * serves, and says the store is unreachable). The API starts without Redis and connects to it in the
 * background, so a refused Redis shows as "never ready" while a refused Postgres or Temporal ends it.
 */
export async function startApiAgainst(root: string, env: NodeJS.ProcessEnv, timeoutMs = 90_000): Promise<Distrust> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'api/server.ts'], {
    cwd: root,
    env: { ...env, PORT: String(port), API_HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  unregister ??= killOnExit(() => running.forEach((each) => each.kill('SIGKILL')));
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', (code) => {
    exitCode = code;
    resolve();
  }));

  let readyz: number | undefined;
  let unready = 0;
  const deadline = Date.now() + timeoutMs;
  while (exitCode === undefined && Date.now() < deadline && readyz !== 200 && unready < 3) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    if (!output.includes('"api listening"')) continue;
    readyz = (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status ?? readyz;
    if (readyz === 503) unready += 1;
  }
  if (exitCode === undefined) {
    child.kill('SIGKILL');
    await exited;
    exitCode = undefined; // it did not stop by itself
  }
  running.delete(child);
  if (running.size === 0) {
    unregister?.();
    unregister = undefined;
  }
  return { exitCode, readyz, output };
}
