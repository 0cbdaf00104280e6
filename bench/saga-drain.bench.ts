import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../infra/config.js';
import { benchEnv, pool, prepareBench, progress, QUICK, startBenchTemporal } from './bench-stack.js';
import { median, report, rotate, roundRatios } from './harness.js';
import { createSagaRig, type SagaBatch } from './saga-rig.js';

/**
 * saga-drain: BENCH_SAGAS bookings (2000; 80 with BENCH_QUICK=1) are started on a task queue
 * nobody polls yet; then the worker starts and the clock runs until every one is terminal.
 * Figures: sagas/s and sagas per CPU-second. Baselines, in the same run and rotated with it:
 * (a) the same saga in-process with no durability (bench/in-process-saga.ts: the same activity
 * functions in sequence, as many sagas at once as the worker runs activities at once), and
 * (b) a no-op Temporal saga with the same activities doing nothing (bench/noop-saga.workflows.ts)
 * on a worker with the same options, every step a regular activity as in the saga. Opt-in arms:
 * `noopLocal` (BENCH_ARMS=…,noopLocal) the same floor with the two status steps as local
 * activities, and `oursOther` (BENCH_OTHER_WORKFLOWS) the saga from other workflow code, for
 * measuring a workflow change against the current code in one run. Every run gets fresh fakes
 * (sandbox provider, Stripe fake).
 */
const SAGAS = Number(process.env.BENCH_SAGAS ?? (QUICK ? 80 : 2000));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WARM_UP = Math.min(SAGAS, Number(process.env.BENCH_WARM_UP_SAGAS ?? (QUICK ? 20 : 200)));

const temporal = await startBenchTemporal();
const env = benchEnv(temporal.env);
const config = loadConfig(env);
await prepareBench(config);
const rig = await createSagaRig({ env, config, temporalPid: temporal.pid });
// The in-process floor runs as many sagas at once as the worker runs activities at once (SDK default 100).
const IN_PROCESS_CONCURRENCY = config.worker.maxConcurrentActivityTaskExecutions ?? 100;

interface DrainRun {
  sagas: number;
  seconds: number;
  sagasPerSecond: number;
  /** CPU seconds of the process that ran the sagas (this one: worker or in-process saga). */
  cpuSeconds: { sagaProcess: number; temporalServer: number; sandbox: number; stripeFake: number };
  sagasPerCpuSecond: number;
  /** Including the Temporal server's CPU, for the durable arms. */
  sagasPerCpuSecondWithServer: number;
  outcomes: Record<string, number>;
}

function figures(n: number, seconds: number, cpu: DrainRun['cpuSeconds'], outcomes: Record<string, number>): DrainRun {
  const withServer = cpu.sagaProcess + (Number.isNaN(cpu.temporalServer) ? 0 : cpu.temporalServer);
  return {
    sagas: n,
    seconds,
    sagasPerSecond: n / seconds,
    cpuSeconds: cpu,
    sagasPerCpuSecond: n / cpu.sagaProcess,
    sagasPerCpuSecondWithServer: n / withServer,
    outcomes,
  };
}

async function inProcess(n: number): Promise<DrainRun> {
  const fakes = await rig.startFakes();
  const batch = await rig.prepareBatch(n);
  const track = rig.tracker(batch);
  const saga = rig.inProcess(fakes, track.onStatus);
  const before = { self: rig.selfCpu(), fakes: fakes.cpu() };
  const began = performance.now();
  await pool(batch.inputs, IN_PROCESS_CONCURRENCY, async (input) => {
    await saga.run(input);
  });
  await track.all;
  const seconds = (performance.now() - began) / 1000;
  const after = { self: rig.selfCpu(), fakes: fakes.cpu() };
  saga.close();
  await fakes.stop();
  const run = figures(n, seconds, { sagaProcess: after.self - before.self, temporalServer: 0, sandbox: after.fakes.sandbox - before.fakes.sandbox, stripeFake: after.fakes.stripe - before.fakes.stripe }, track.outcomes);
  progress(`in-process: ${n} in ${seconds.toFixed(1)} s = ${run.sagasPerSecond.toFixed(1)}/s, ${run.sagasPerCpuSecond.toFixed(1)}/CPU-s ${JSON.stringify(track.outcomes)}`);
  return run;
}

async function durable(kind: 'ours' | 'oursOther' | 'noop' | 'noopLocal', n: number): Promise<DrainRun> {
  const real = kind === 'ours' || kind === 'oursOther';
  const fakes = real ? await rig.startFakes() : undefined;
  const batch: SagaBatch = await rig.prepareBatch(n);
  const track = rig.tracker(batch);
  const taskQueue = `bench-drain-${kind}-${randomUUID()}`;
  await rig.startSagas(batch, taskQueue, real ? 'booking' : kind);
  const { worker, close } = real
    ? await rig.oursWorker(taskQueue, fakes!, track.onStatus, kind === 'oursOther' ? 'other' : 'ours')
    : await rig.noopWorker(taskQueue, track.onStatus);
  const before = { self: rig.selfCpu(), server: rig.temporalCpu(), fakes: fakes?.cpu() };
  const began = performance.now();
  const running = worker.run();
  await Promise.race([track.all, running.then(() => Promise.reject(new Error('the worker stopped before the batch was done')))]);
  const seconds = (performance.now() - began) / 1000;
  const after = { self: rig.selfCpu(), server: rig.temporalCpu(), fakes: fakes?.cpu() };
  worker.shutdown();
  await running;
  close();
  await fakes?.stop();
  const run = figures(
    n,
    seconds,
    {
      sagaProcess: after.self - before.self,
      temporalServer: after.server - before.server,
      sandbox: after.fakes && before.fakes ? after.fakes.sandbox - before.fakes.sandbox : 0,
      stripeFake: after.fakes && before.fakes ? after.fakes.stripe - before.fakes.stripe : 0,
    },
    track.outcomes,
  );
  progress(`${kind}: ${n} in ${seconds.toFixed(1)} s = ${run.sagasPerSecond.toFixed(1)}/s, ${run.sagasPerCpuSecond.toFixed(1)}/CPU-s (worker), ${run.sagasPerCpuSecondWithServer.toFixed(1)}/CPU-s (+server) ${JSON.stringify(track.outcomes)}`);
  return run;
}

// BENCH_ARMS=ours (say) runs only some arms, for profiling one of them; the ratios then need all three.
const only = process.env.BENCH_ARMS?.split(',');
const skipped = async (): Promise<DrainRun> => figures(1, Number.NaN, { sagaProcess: Number.NaN, temporalServer: Number.NaN, sandbox: 0, stripeFake: 0 }, {});
const arm = (name: string, run: (n: number) => Promise<DrainRun>) => (n: number) => (!only || only.includes(name) ? run(n) : skipped());
const arms = {
  inProcess: arm('inProcess', inProcess),
  noop: arm('noop', (n) => durable('noop', n)),
  // Opt-in: only when BENCH_ARMS names it.
  noopLocal: (n: number) => (only?.includes('noopLocal') ? durable('noopLocal', n) : skipped()),
  ours: arm('ours', (n) => durable('ours', n)),
};
// With BENCH_OTHER_WORKFLOWS, a fifth arm runs the saga from that other workflow code.
const other = rig.otherWorkflows ? arm('oursOther', (n) => durable('oursOther', n)) : skipped;
const runs = await rotate({
  rounds: ROUNDS,
  arms: {
    inProcess: () => arms.inProcess(SAGAS),
    noop: () => arms.noop(SAGAS),
    noopLocal: () => arms.noopLocal(SAGAS),
    ours: () => arms.ours(SAGAS),
    oursOther: () => other(SAGAS),
  },
  warmUp: {
    inProcess: () => arms.inProcess(WARM_UP),
    noop: () => arms.noop(WARM_UP),
    noopLocal: () => arms.noopLocal(WARM_UP),
    ours: () => arms.ours(WARM_UP),
    oursOther: () => other(WARM_UP),
  },
});
const rate = (r: DrainRun) => r.sagasPerSecond;
const vsNoop = roundRatios(runs.ours, runs.noop, rate);
const vsInProcess = roundRatios(runs.ours, runs.inProcess, rate);
const vsNoopLocal = roundRatios(runs.ours, runs.noopLocal, rate);
const perCpu = {
  vsNoop: roundRatios(runs.ours, runs.noop, (r) => r.sagasPerCpuSecondWithServer),
  vsInProcess: roundRatios(runs.ours, runs.inProcess, (r) => r.sagasPerCpuSecond),
};
const med = (list: DrainRun[], f: (r: DrainRun) => number) => median(list.map(f));
const metricsPort = Number(process.env.BENCH_WORKER_METRICS_PORT ?? 0);
if (metricsPort > 0) writeFileSync('bench/results/saga-drain.worker-metrics.txt', await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
report(
  'saga-drain',
  `ours ${med(runs.ours, rate).toFixed(1)} sagas/s (${med(runs.ours, (r) => r.sagasPerCpuSecond).toFixed(1)}/CPU-s) vs no-op ${med(runs.noop, rate).toFixed(1)}/s ` +
    `(ratio ${vsNoop.ratio.toFixed(3)}, goal >= 0.70) vs in-process ${med(runs.inProcess, rate).toFixed(1)}/s (ratio ${vsInProcess.ratio.toFixed(3)}, goal >= 0.25)`,
  vsNoop.ratio,
  {
    settings: {
      sagas: SAGAS,
      warmUpSagas: WARM_UP,
      rounds: ROUNDS,
      temporal: temporal.describe,
      worker: { ...rig.tuning, note: 'unset options are the Temporal SDK defaults (1.24: 100 activities, 40 workflow tasks at once)' },
      inProcessConcurrency: IN_PROCESS_CONCURRENCY,
      completion: 'the commit of the terminal status (setBookingStatus; for the no-op saga its last step), observed in-process',
      processes: 'worker / in-process saga in the bench process; sandbox provider and Stripe fake fresh processes per run; Temporal server its own process',
    },
    goal: 'ours / no-op >= 0.70; ours / in-process >= 0.25',
    ratio: {
      oursVsNoop: vsNoop,
      oursVsInProcess: vsInProcess,
      ...(only?.includes('noopLocal') ? { oursVsNoopWithLocalStatus: vsNoopLocal } : {}),
      perCpuSecond: perCpu,
      ...(rig.otherWorkflows ? { oursVsOtherWorkflowCode: roundRatios(runs.ours, runs.oursOther, rate), otherWorkflows: rig.otherWorkflows } : {}),
    },
    runs,
  },
);
await rig.close();
await temporal.stop();
process.exit(0);
