import { INVARIANTS, type Verdict } from '../chaos/invariants.js';

export interface ProductionFigures {
  bookings: number;
  apis: number;
  kills: string[];
  /** Bookings not yet terminal at each kill. */
  inFlight: number[];
  workerStarts: { startupMs: number[]; crashes: number };
  verdict: Verdict;
  seconds: { setup: number; batch: number; total: number };
}

const list = (counts: Record<string, number>) =>
  Object.entries(counts).sort(([, a], [, b]) => b - a).map(([key, n]) => `${key} ${n}`).join(', ') || 'none';

/** What `npm run test:production` prints: the figures CI's closing note quotes. */
export function formatVerdict(f: ProductionFigures): string {
  const failed = new Map<string, number>();
  for (const v of f.verdict.violations) failed.set(v.invariant, (failed.get(v.invariant) ?? 0) + 1);
  return [
    `production profile: ${f.bookings} bookings through ${f.apis} API processes (NODE_ENV=production, TLS to every store, mTLS to Temporal)`,
    `kills: ${f.kills.map((k, i) => `${k} (${f.inFlight[i]} unfinished)`).join(', ')}; worker processes started ${f.workerStarts.startupMs.length}, crashed ${f.workerStarts.crashes}`,
    `outcomes: ${list(f.verdict.outcomes)}; failure codes: ${list(f.verdict.failureCodes)}`,
    `invariants (${f.verdict.auditRowsVerified} audit rows verified):`,
    ...INVARIANTS.map((name) => `  ${failed.has(name) ? `FAIL (${failed.get(name)})` : 'ok  '} ${name}`),
    ...f.verdict.violations.slice(0, 10).map((v) => `  - ${v.invariant}: ${v.detail}`),
    `time: setup ${f.seconds.setup} s, batch and drain ${f.seconds.batch} s, total ${f.seconds.total} s`,
  ].join('\n');
}
