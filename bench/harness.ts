import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';

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
        machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
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
