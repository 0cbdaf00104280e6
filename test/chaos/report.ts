import type { Verdict } from './invariants.js';
import { INVARIANTS } from './invariants.js';
import type { ChaosPlan, FaultCounts } from './monkey.js';

export interface ChaosReport {
  seed: number;
  bookings: number;
  workers: number;
  plan: ChaosPlan;
  faults: FaultCounts;
  /** POSTs the clients had to repeat (5xx or no answer during outages). */
  postRetries: number;
  /** Bookings stored by a POST that then failed to start the saga; only the client's retry started it. */
  savedByClientRetry: number;
  /** Spawn-to-polling time of every worker process started, and how many exited unasked. */
  workerStarts: { startupMs: number[]; crashes: number };
  timeline: string[];
  verdict: Verdict;
  seconds: { setup: number; chaos: number; drain: number; reconcile?: number; checks: number };
}

const list = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([key, n]) => `${key} ${n}`)
    .join(', ') || 'none';

const seconds = (ms: number[]) => (ms.length ? `${(Math.min(...ms) / 1000).toFixed(1)}–${(Math.max(...ms) / 1000).toFixed(1)} s` : 'n/a');

/** The report a person reads after a run: what was injected, what came of the bookings, what broke. */
export function formatReport(report: ChaosReport): string {
  const { faults, verdict } = report;
  const inFlight = faults.bookingsInFlightAtKills;
  const byInvariant = new Map<string, string[]>();
  for (const v of verdict.violations) byInvariant.set(v.invariant, [...(byInvariant.get(v.invariant) ?? []), v.detail]);
  const lines = [
    `chaos run: ${report.bookings} bookings, ${report.workers} worker processes, seed ${report.seed} (CHAOS_SEED replays the schedule)`,
    `faults injected:`,
    `  worker SIGKILLs      ${faults.workerKills} (bookings in flight at each: ${inFlight.join(', ') || '-'})`,
    `  Temporal restarts    ${faults.temporalRestarts}`,
    `  Redis restarts       ${faults.redisRestarts}`,
    `  Stripe unreachable   ${faults.stripeOutages} (${(faults.stripeOutageMs / 1000).toFixed(0)} s in all)`,
    `  provider errors      ${faults.provider.injectedErrors} and time-outs ${faults.provider.injectedTimeouts} of ${faults.provider.requests} calls`,
    `  operator cancels     ${faults.cancelledSagas?.length ?? 0}, terminations ${faults.terminatedSagas?.length ?? 0}`,
    `  webhooks again       ${faults.webhooksReplayed ?? 0} (shuffled, some twice, some under a new id; ${faults.webhooksRefused ?? 0} refused)`,
    `  client POST retries  ${report.postRetries} (${report.savedByClientRetry} bookings were stored by a failed POST and started only by the client's retry)`,
    `worker processes: ${report.workerStarts.startupMs.length} started (spawn to polling ${seconds(report.workerStarts.startupMs)}), ${report.workerStarts.crashes} crashed by themselves`,
    `timeline:`,
    ...report.timeline.map((line) => `  ${line}`),
    `outcomes: ${list(verdict.outcomes)}; failure codes: ${list(verdict.failureCodes)}; cancellations answered: ${list(verdict.cancelAnswers)}`,
    `cases open after the reconciler: ${list(verdict.openCases ?? {})}`,
    `invariants (${verdict.auditRowsVerified} audit rows verified):`,
    ...INVARIANTS.map((name) => {
      const found = byInvariant.get(name) ?? [];
      return `  ${found.length === 0 ? 'ok  ' : 'FAIL'} ${name}${found.length ? ` (${found.length})` : ''}${found
        .slice(0, 5)
        .map((d) => `\n         ${d}`)
        .join('')}`;
    }),
    `violations: ${verdict.violations.length}`,
    `took: setup ${report.seconds.setup}s, chaos ${report.seconds.chaos}s, drain ${report.seconds.drain}s, reconciler ${report.seconds.reconcile ?? 0}s, checks ${report.seconds.checks}s`,
  ];
  return lines.join('\n');
}
