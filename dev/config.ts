import { z } from 'zod';
import { ConfigError, loadConfig, type Config, type SandboxSetting } from '../infra/config.js';

/**
 * The development configuration: production's (infra/config.ts, with its development defaults and
 * every rule it holds) plus the settings of what only development runs, the sandbox suppliers.
 * Production refuses these settings by name; the development tools refuse production.
 */

const sandboxSchema = z.object({
  SANDBOX_PROVIDER_PORT: z.coerce.number().int().min(0).max(65535).default(4010),
  // Fault injection (tests change faults at run time through PUT /_control/faults).
  SANDBOX_LATENCY_MS: z.coerce.number().int().min(0).default(0),
  SANDBOX_ERROR_RATE: z.coerce.number().min(0).max(1).default(0),
  SANDBOX_SOLD_OUT: z.string().default(''),
  SANDBOX_OFFER_TTL_MS: z.coerce.number().int().positive().default(15 * 60_000),
  SANDBOX_HOLD_TTL_MS: z.coerce.number().int().positive().default(20 * 60_000),
} satisfies Record<SandboxSetting, z.ZodType>);

export type DevConfig = Config & {
  readonly sandbox: Readonly<{ port: number; latencyMs: number; errorRate: number; soldOut: string[]; offerTtlMs: number; holdTtlMs: number }>;
};

/** Parses the environment as production's loadConfig does, then the sandbox's settings; every problem in one ConfigError. */
export function loadDevConfig(env: NodeJS.ProcessEnv = process.env): DevConfig {
  if (env.NODE_ENV === 'production') throw new ConfigError(['NODE_ENV: the development tools (dev/) do not run in production']);
  let config: Config | undefined;
  const problems: string[] = [];
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.issues);
  }
  // Empty strings mean "unset", as in production's configuration.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = sandboxSchema.safeParse(present);
  if (!parsed.success) problems.push(...parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  if (problems.length > 0 || !config || !parsed.success) throw new ConfigError(problems);
  const sandbox = parsed.data;
  const soldOut = sandbox.SANDBOX_SOLD_OUT.split(',').map((item) => item.trim()).filter(Boolean);
  Object.freeze(soldOut);
  return Object.freeze({
    ...config,
    sandbox: Object.freeze({
      port: sandbox.SANDBOX_PROVIDER_PORT,
      latencyMs: sandbox.SANDBOX_LATENCY_MS,
      errorRate: sandbox.SANDBOX_ERROR_RATE,
      soldOut,
      offerTtlMs: sandbox.SANDBOX_OFFER_TTL_MS,
      holdTtlMs: sandbox.SANDBOX_HOLD_TTL_MS,
    }),
  });
}

/** For the development entry points (up, the sandbox): the configuration, or exit with one line per bad variable. */
export function loadDevConfigOrExit(env: NodeJS.ProcessEnv = process.env): DevConfig {
  try {
    return loadDevConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}
