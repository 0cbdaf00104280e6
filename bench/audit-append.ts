import { loadConfig } from '../infra/config.js';
import { appendAudit } from '../infra/audit/audit-log.js';
import { createOrm } from '../infra/db/orm.js';
import { benchEnv, prepareBench } from './bench-stack.js';

/**
 * The audit chain's ceiling (docs/scaling.md): every audited write, whoever makes it, appends under
 * one advisory lock (infra/audit/audit-log.ts) held until its transaction commits, so the whole
 * deployment appends at most 1 / (time the lock is held) rows a second. One writer, then many,
 * each a transaction of one append, in tc_bench as travelconnect_app (bench/bench-stack.ts).
 *
 *   node --import tsx bench/audit-append.ts       AUDIT_WRITERS (16), BENCH_DURATION_S (5)
 */

const writers = Number(process.env.AUDIT_WRITERS ?? 16);
const seconds = Number(process.env.BENCH_DURATION_S ?? 5);
const config = loadConfig(benchEnv());
await prepareBench(config);
const orm = await createOrm({ ...config.database, poolMax: writers });
const event = { actor: 'bench', action: 'bench.audit_append', resource: 'bench', result: 'ok' };

async function run(concurrency: number): Promise<{ perSecond: number; meanMs: number }> {
  const until = performance.now() + seconds * 1000;
  let appends = 0;
  let busyMs = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < until) {
      const started = performance.now();
      await orm.em.fork().transactional((em) => appendAudit(em, config.audit.hmacKey, event));
      busyMs += performance.now() - started;
      appends += 1;
    }
  }));
  return { perSecond: appends / seconds, meanMs: busyMs / appends };
}

await run(1); // warm-up: connections, JIT
const alone = await run(1);
const contended = await run(writers);
process.stdout.write(
  `audit-append: 1 writer ${alone.perSecond.toFixed(0)}/s (${alone.meanMs.toFixed(2)} ms a transaction); ` +
  `${writers} writers ${contended.perSecond.toFixed(0)}/s (${contended.meanMs.toFixed(2)} ms each, waiting included): ` +
  `the lock is held ~${(1000 / contended.perSecond).toFixed(2)} ms an append on this machine (Postgres on loopback)\n`,
);
await orm.close();
