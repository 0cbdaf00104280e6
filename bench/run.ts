import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

// `npm run bench` runs every benchmark, `npm run bench -- <name>` one of them, each in its own process;
// `--quick` (BENCH_QUICK=1) runs each with short settings (fewer sagas, shorter runs, fewer rounds).
const available = readdirSync(new URL('.', import.meta.url)).filter((f) => f.endsWith('.bench.ts')).map((f) => f.replace('.bench.ts', ''));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const wanted = args.filter((arg) => arg !== '--quick');
const unknown = wanted.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}\n`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : available) {
  const env = quick ? { ...process.env, BENCH_QUICK: '1' } : process.env;
  const run = spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}.bench.ts`], { stdio: 'inherit', env });
  if (run.status !== 0) failed += 1;
}
process.exit(failed > 0 ? 1 : 0);
