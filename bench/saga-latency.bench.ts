import { randomUUID } from 'node:crypto';
import * as hdr from 'hdr-histogram-js';
import { loadConfig } from '../infra/config.js';
import { benchEnv, prepareBench, progress, QUICK, startBenchTemporal } from './bench-stack.js';
import { alternate, median, report } from './harness.js';
import { createSagaRig } from './saga-rig.js';

/**
 * saga-latency: bookings started at a steady BENCH_RATE (10/s) in an open loop for
 * BENCH_DURATION_S; each one's latency runs from when it was *meant* to be started (so a stalled
 * sender cannot hide queueing: coordinated omission corrected) to the commit of its CONFIRMED
 * status. Subject: the durable saga (workflow start → worker → CONFIRMED); baseline: the same
 * saga in-process (bench/in-process-saga.ts), same rate, same fakes (fresh per run).
 * ratio = in-process p95 / ours p95 (1.0 would mean durability adds no latency).
 */
const RATE = Number(process.env.BENCH_RATE ?? 10);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? (QUICK ? 4 : 30));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 2 : 3));
const WARM_UP_S = Number(process.env.BENCH_WARM_UP_S ?? (QUICK ? 2 : 5));

const temporal = await startBenchTemporal();
const env = benchEnv(temporal.env);
const config = loadConfig(env);
await prepareBench(config);
const rig = await createSagaRig({ env, config, temporalPid: temporal.pid });

interface LatencyRun {
  sent: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** How late the sender itself fired (its own stalls), at the 99th percentile, ms. */
  senderLagP99: number;
  outcomes: Record<string, number>;
  cpuSeconds: { sagaProcess: number; temporalServer: number };
}

async function openLoop(kind: 'ours' | 'inProcess', seconds: number): Promise<LatencyRun> {
  const n = Math.round(RATE * seconds);
  const fakes = await rig.startFakes();
  const batch = await rig.prepareBatch(n);
  const track = rig.tracker(batch);
  const taskQueue = `bench-latency-${randomUUID()}`;
  const durable = kind === 'ours' ? await rig.oursWorker(taskQueue, fakes, track.onStatus) : undefined;
  const running = durable?.worker.run();
  const inProcess = kind === 'inProcess' ? rig.inProcess(fakes, track.onStatus) : undefined;
  // The worker's pollers are up before the first booking is due.
  await new Promise((resolve) => setTimeout(resolve, 500));

  const latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
  const lag = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
  const errors: unknown[] = [];
  const finished: Array<Promise<void>> = [];
  const before = { self: rig.selfCpu(), server: rig.temporalCpu() };
  const t0 = performance.now() + 50;
  for (let i = 0; i < n; i += 1) {
    const intended = t0 + (i * 1000) / RATE;
    const wait = intended - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    lag.recordValue(Math.max(1, Math.round((performance.now() - intended) * 1000)));
    const input = batch.inputs[i]!;
    const started = kind === 'ours' ? rig.startSaga(input, taskQueue, 'booking') : inProcess!.run(input);
    started.catch((error: unknown) => errors.push(error));
    finished.push(track.waitFor(input.bookingId).then((at) => latency.recordValue(Math.max(1, Math.round((at - intended) * 1000)))));
  }
  await Promise.race([
    Promise.all(finished),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${kind}: not every booking finished (${errors.length} errors: ${String(errors[0])})`)), 120_000).unref()),
  ]);
  const after = { self: rig.selfCpu(), server: rig.temporalCpu() };
  durable?.worker.shutdown();
  await running;
  durable?.close();
  inProcess?.close();
  await fakes.stop();
  const ms = (h: hdr.Histogram, p: number) => h.getValueAtPercentile(p) / 1000;
  const run: LatencyRun = {
    sent: n,
    p50: ms(latency, 50),
    p95: ms(latency, 95),
    p99: ms(latency, 99),
    max: latency.maxValue / 1000,
    senderLagP99: ms(lag, 99),
    outcomes: track.outcomes,
    cpuSeconds: { sagaProcess: after.self - before.self, temporalServer: kind === 'ours' ? after.server - before.server : 0 },
  };
  latency.destroy();
  lag.destroy();
  progress(`${kind}: ${n} at ${RATE}/s: p50 ${run.p50} ms, p95 ${run.p95} ms, p99 ${run.p99} ms, max ${run.max} ms ${JSON.stringify(run.outcomes)}`);
  return run;
}

// Warm-up (the harness's first run of each) is shorter; every timed run is DURATION_S long.
let warm = 2;
const duration = () => (warm-- > 0 ? WARM_UP_S : DURATION_S);
const result = await alternate({
  rounds: ROUNDS,
  baseline: () => openLoop('inProcess', duration()),
  subject: () => openLoop('ours', duration()),
  // Higher is better, like every other ratio here: in-process p95 over ours.
  figure: (r) => 1 / r.p95,
});
const med = (list: LatencyRun[], f: (r: LatencyRun) => number) => median(list.map(f));
const p95 = med(result.subject, (r) => r.p95);
report(
  'saga-latency',
  `${rig.eager ? `(eager start: ${rig.eagerlyStarted()} eager) ` : ''}ours p50 ${med(result.subject, (r) => r.p50)} / p95 ${p95} / p99 ${med(result.subject, (r) => r.p99)} ms at ${RATE}/s (goal p95 <= 150) ` +
    `vs in-process p50 ${med(result.baseline, (r) => r.p50)} / p95 ${med(result.baseline, (r) => r.p95)} / p99 ${med(result.baseline, (r) => r.p99)} ms`,
  result.ratio,
  {
    settings: {
      ratePerSecond: RATE,
      durationSeconds: DURATION_S,
      warmUpSeconds: WARM_UP_S,
      rounds: ROUNDS,
      temporal: temporal.describe,
      worker: { ...rig.tuning, note: 'unset options are the Temporal SDK defaults' },
      eagerStart: rig.eager ? `requested (BENCH_EAGER=1); ${rig.eagerlyStarted()} of the durable arm's starts were eager` : 'not requested',
      latency: 'intended start time → commit of the CONFIRMED status (coordinated-omission corrected), HDR histogram',
      ratio: 'in-process p95 / ours p95',
    },
    goal: 'p95 <= 150 ms on loopback',
    meetsGoal: p95 <= 150,
    ours: result.subject,
    inProcess: result.baseline,
    ratios: result.ratios,
  },
);
await rig.close();
await temporal.stop();
process.exit(0);
