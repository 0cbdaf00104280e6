import { join } from 'node:path';
import { spawnLogged, stopChild, waitUntilReady, type Spawned } from '../../dev/process.js';
import { killOnExit } from '../chaos/fault-targets.js';

/** A process the production-profile test started, logged to `<logDir>/<name>.log`, killed if the test dies. */
export interface OwnedProcess {
  name: string;
  logFile: string;
  stop(): Promise<void>;
}

export async function startOwnedProcess(spec: {
  name: string;
  command: string;
  args: string[];
  /** The whole environment: nothing of the test process leaks in. */
  env: NodeJS.ProcessEnv;
  cwd: string;
  logDir: string;
  ready: () => Promise<boolean>;
  timeoutMs?: number;
}): Promise<OwnedProcess> {
  const logFile = join(spec.logDir, `${spec.name}.log`);
  // spawnLogged merges process.env under env: blank out what the test process has and the child was not given.
  const blanked = Object.fromEntries(Object.keys(process.env).filter((key) => !(key in spec.env)).map((key) => [key, undefined]));
  const spawned: Spawned = spawnLogged(spec.command, spec.args, { logFile, cwd: spec.cwd, env: { ...blanked, ...spec.env } });
  const unregister = killOnExit(() => spawned.child.kill('SIGKILL'));
  const stop = async () => {
    unregister();
    await stopChild(spawned.child, 5_000);
  };
  try {
    await waitUntilReady(spec.name, spec.ready, { timeoutMs: spec.timeoutMs ?? 60_000, logFile, spawned, intervalMs: 250 });
  } catch (error) {
    await stop();
    throw error;
  }
  return { name: spec.name, logFile, stop };
}

/** The few variables any child needs from this machine (where programs are, a home). */
export function baseEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8' };
}
