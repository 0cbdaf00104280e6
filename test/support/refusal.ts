import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { productionEnv } from './production-env.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** How an entry point that was expected to refuse to start ended. */
export interface Refusal {
  /** Exit code; null when it was still running at the deadline (it did not refuse). */
  status: number | null;
  stderr: string;
  /** What it logged (JSON lines), for a process that got past its configuration. */
  stdout: string;
  /** The non-empty stderr lines. */
  lines: string[];
}

/**
 * Starts an entry point (`api/server.ts`, `workers/booking.worker.ts`) as its own process with
 * exactly `env`, and returns how it stopped. A configuration refusal is exit 78 with one line.
 */
export function startExpectingRefusal(entry: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Refusal {
  const result = spawnSync(process.execPath, ['--import', 'tsx', entry], { cwd: root, env, encoding: 'utf8', timeout: timeoutMs });
  return { status: result.status, stderr: result.stderr, stdout: result.stdout, lines: result.stderr.split('\n').filter((line) => line.trim() !== '') };
}

/** This process's environment without NODE_ENV (vitest sets it), on port 0, silent, with no sealed secrets file. */
export function withoutNodeEnv(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_ENV;
  return { ...env, SECRETS_FILE: '', PORT: '0', WORKER_METRICS_PORT: '0', LOG_LEVEL: 'silent', ...overrides };
}

/**
 * As withoutNodeEnv, with everything a process that got past its configuration would touch pointed at
 * a closed port, so one that failed to refuse dies on a connection instead of joining the developer's stack.
 */
export function unreachableEnv(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return withoutNodeEnv({
    DATABASE_URL: 'postgresql://travelconnect_app:unused@127.0.0.1:1/none',
    REDIS_URL: 'redis://127.0.0.1:1/0',
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    KMS_ENDPOINT: 'http://127.0.0.1:1',
    ...overrides,
  });
}

/** A whole process environment that production accepts apart from `overrides` (see productionEnv). */
export function productionProcessEnv(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // The developer's own plain settings would be refused as plain secrets, or as the owner's URL.
  return withoutNodeEnv({ DATABASE_URL: '', MIGRATION_DATABASE_URL: '', MIGRATION_DATABASE_URL_FILE: '', ...productionEnv(overrides) });
}
