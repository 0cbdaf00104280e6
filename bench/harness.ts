import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

/** `npm run bench -- --quick`: every benchmark with short settings. */
export const QUICK = process.env.BENCH_QUICK === '1';

/** Median of a list of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Runs baseline and subject alternately (A/B/A/B) after one warm-up each, so both see the
 * same machine noise; returns every figure and the median of the per-round ratios.
 */
export async function alternate<T>(options: {
  rounds: number;
  baseline: () => Promise<T>;
  subject: () => Promise<T>;
  figure: (result: T) => number;
}): Promise<{ baseline: T[]; subject: T[]; ratios: number[]; ratio: number }> {
  await options.baseline();
  await options.subject();
  const baseline: T[] = [];
  const subject: T[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < options.rounds; round += 1) {
    const a = await options.baseline();
    const b = await options.subject();
    baseline.push(a);
    subject.push(b);
    ratios.push(options.figure(b) / options.figure(a));
  }
  return { baseline, subject, ratios, ratio: median(ratios) };
}

/**
 * `alternate` for more than one baseline: one warm-up run of every arm, then rounds that run every
 * arm in turn (A/B/C/A/B/C), so all arms see the same machine noise. Returns every arm's figures.
 */
export async function rotate<K extends string, T>(options: {
  rounds: number;
  arms: Record<K, () => Promise<T>>;
  /** Replaces an arm's warm-up run (e.g. a smaller batch); the arm itself by default. */
  warmUp?: Partial<Record<K, () => Promise<T>>>;
}): Promise<Record<K, T[]>> {
  const names = Object.keys(options.arms) as K[];
  for (const name of names) await (options.warmUp?.[name] ?? options.arms[name])();
  const results = Object.fromEntries(names.map((name) => [name, [] as T[]])) as Record<K, T[]>;
  for (let round = 0; round < options.rounds; round += 1) {
    for (const name of names) results[name].push(await options.arms[name]());
  }
  return results;
}

/** The median of the per-round ratios subject[i] / baseline[i] of a figure. */
export function roundRatios<T>(subject: T[], baseline: T[], figure: (result: T) => number): { ratios: number[]; ratio: number } {
  const ratios = subject.map((s, i) => figure(s) / figure(baseline[i]!));
  return { ratios, ratio: median(ratios) };
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Writes bench/results/<name>.json and prints the one-line summary whose last field is the ratio. */
export function report(name: string, summary: string, ratio: number, details: Record<string, unknown>): void {
  mkdirSync('bench/results', { recursive: true });
  const usage = process.cpuUsage();
  writeFileSync(
    `bench/results/${name}.json`,
    `${JSON.stringify(
      {
        name,
        commit: commit(),
        at: new Date().toISOString(),
        // The load average says how busy the (shared) machine was while this ran.
        machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadAverage1m5m15m: loadavg() },
        processCpuSeconds: (usage.user + usage.system) / 1e6,
        ratio,
        ...details,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`${name}: ${summary} ratio=${ratio.toFixed(3)}\n`);
}
