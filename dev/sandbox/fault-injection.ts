import type { Context, MiddlewareHandler } from 'hono';

export interface InjectedFaults {
  latencyMs: number;
  errorRate: number;
  timeoutRate: number;
  /** How long a "timed out" call hangs before the supplier acts on it anyway (a late success). */
  timeoutMs?: number;
}

export interface FaultStats {
  requests: number;
  injectedErrors: number;
  injectedTimeouts: number;
}

/**
 * The sandbox suppliers' shared fault injection: latency, then a roll for a timeout or an error.
 * `faults` is read per request, so faults set at run time apply at once; `unavailable` answers
 * the injected error in the supplier's own wire format.
 */
export function injectFaults(faults: () => InjectedFaults, stats: FaultStats, unavailable: (c: Context) => Response): MiddlewareHandler {
  return async function injectFaultsMiddleware(c, next) {
    const current = faults();
    stats.requests += 1;
    if (current.latencyMs > 0) await new Promise((r) => setTimeout(r, current.latencyMs));
    const roll = Math.random();
    if (roll < current.timeoutRate) {
      stats.injectedTimeouts += 1;
      await new Promise((r) => setTimeout(r, current.timeoutMs ?? 120_000));
    } else if (roll < current.timeoutRate + current.errorRate) {
      stats.injectedErrors += 1;
      return unavailable(c);
    }
    await next();
  };
}
