import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../infra/config.js';
import { createBookingRecordsStore } from '../infra/db/booking-records.store.js';
import { Booking, User } from '../infra/db/entities.js';
import { createOrm } from '../infra/db/orm.js';
import { benchEnv, prepareBench, progress, QUICK, selfCpuSeconds } from './bench-stack.js';
import { alternate, report } from './harness.js';

/**
 * persistence: a booking written the way the app writes it with MikroORM — the API's own
 * insert (infra/db/booking-records.store.ts: one statement, the booking and its item, through the
 * ORM's knex), then the status update (the booking repository's nativeUpdate) — against
 * `pgbench -M prepared` running the same SQL (the update's taken from MikroORM's debug log), same
 * number of clients, same duration, same rows.
 * tps = bookings (insert + update) per second.
 */
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? (QUICK ? 3 : 5));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 2 : 3));

const config = loadConfig(benchEnv({ DATABASE_POOL_MAX: String(CLIENTS) }));
await prepareBench(config);
const orm = await createOrm(config.database);
// Only the insert is measured; the store's audited writes are not.
const store = createBookingRecordsStore(orm, { audit: async () => { throw new Error('not measured'); } });
const userId = randomUUID();
{
  const em = orm.em.fork();
  em.create(User, { id: userId, email: `bench-persist-${userId}@example.test`, role: 'user', name: 'Bench Persistence', emailVerifiedAt: new Date() });
  await em.flush();
}
// What an encrypted passenger list looks like on the row (ciphertext fields, a masked passport).
const passengers = [
  {
    givenName: 'Ada',
    familyName: 'Lovelace',
    dateOfBirth: `v1:${'A'.repeat(60)}`,
    passportNumber: `v1:${'B'.repeat(60)}`,
    passportHint: '******567',
    passportCountry: 'GB',
    nationality: 'GB',
  },
];
const requestHash = 'a'.repeat(64);

async function mikroOrm(): Promise<{ tps: number; cpuSeconds: { client: number; postgres: number } }> {
  const until = performance.now() + DURATION_S * 1000;
  let done = 0;
  const cpu = selfCpuSeconds();
  const pg = postgresCpuSampler();
  const began = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < until) {
        const id = randomUUID();
        const created = await store.create({
          id,
          userId,
          workflowId: `booking-${id}`,
          idempotencyKey: randomUUID(),
          requestHash,
          totalMinor: 12_345,
          currency: 'EUR',
          passengers,
          contactEmail: 'ada@example.com',
          contactPhone: `v1:${'C'.repeat(60)}`,
          notes: null,
          items: [{ offerId: 'sandbox:SBX-JFKLHR-20270301-Y-0-m0', provider: 'sandbox', kind: 'flight', priceMinor: 12_345, currency: 'EUR' }],
        });
        if (created === 'duplicate') throw new Error('a fresh booking collided');
        await orm.em.fork().nativeUpdate(Booking, { id }, { status: 'CONFIRMED', updatedAt: new Date() });
        done += 1;
      }
    }),
  );
  const seconds = (performance.now() - began) / 1000;
  const result = { tps: done / seconds, cpuSeconds: { client: selfCpuSeconds() - cpu, postgres: pg() } };
  progress(`mikro-orm: ${result.tps.toFixed(0)} tps`);
  return result;
}

// The same statements as the app's (infra/db/booking-records.store.ts's insert, then MikroORM's update), as a pgbench script: one id per booking, derived from a random number
// (CAST, not `::`, which pgbench would read as a variable).
const dir = mkdtempSync(join(tmpdir(), 'tc-bench-pgbench-'));
const script = join(dir, 'booking.sql');
// A string literal with its colons escaped: pgbench would read `:name` inside a literal as a variable.
const lit = (text: string) => `E'${text.replaceAll('\\', '\\\\').replaceAll("'", "''").replaceAll(':', '\\x3a')}'`;
writeFileSync(
  script,
  `\\set a random(1, 9223372036854775806)
WITH b AS (INSERT INTO bookings (id, user_id, workflow_id, idempotency_key, request_hash, status, total_minor, currency, passengers, contact_email, contact_phone, notes, created_at, updated_at) VALUES (CAST(md5(CAST(:a AS text) || '-' || CAST(:client_id AS text)) AS uuid), '${userId}', 'booking-' || CAST(CAST(md5(CAST(:a AS text) || '-' || CAST(:client_id AS text)) AS uuid) AS text), gen_random_uuid(), '${requestHash}', 'PENDING', 12345, 'EUR', ${lit(JSON.stringify(passengers))}, 'ada@example.com', ${lit(`v1:${'C'.repeat(60)}`)}, NULL, now(), now()) RETURNING id) INSERT INTO booking_items (id, booking_id, offer_id, provider, kind, price_minor, currency, state, fare_rule) SELECT v.id, b.id, v.offer_id, v.provider, v.kind, v.price_minor, v.currency, 'PENDING', 'SAVER' FROM b CROSS JOIN (VALUES (gen_random_uuid(), ${lit('sandbox:SBX-JFKLHR-20270301-Y-0-m0')}, 'sandbox', 'flight', 12345, 'EUR')) AS v (id, offer_id, provider, kind, price_minor, currency);
UPDATE bookings SET status = 'CONFIRMED', updated_at = now() WHERE id = CAST(md5(CAST(:a AS text) || '-' || CAST(:client_id AS text)) AS uuid);
`,
);

/**
 * CPU seconds of postgres processes over a run, sampled every 100 ms per pid, so backends that
 * exit with their client (pgbench's) still count. The server is shared: others' queries count too.
 */
function postgresCpuSampler() {
  const read = () => {
    const now = new Map<number, number>();
    for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        if (!stat.includes('(postgres)')) continue;
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        now.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / 100);
      } catch {
        // gone meanwhile
      }
    }
    return now;
  };
  const first = read();
  const last = new Map(first);
  const timer = setInterval(() => read().forEach((cpu, pid) => last.set(pid, cpu)), 100);
  return () => {
    clearInterval(timer);
    read().forEach((cpu, pid) => last.set(pid, cpu));
    let total = 0;
    last.forEach((cpu, pid) => (total += cpu - (first.get(pid) ?? 0)));
    return total;
  };
}

async function pgbench(): Promise<{ tps: number; cpuSeconds: { client: number; postgres: number } }> {
  const url = new URL(config.database.url);
  const pg = postgresCpuSampler();
  // bash's `times` reports the CPU its children (pgbench) used.
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      'bash',
      ['-c', 'pgbench "$@" && times', 'pgbench', '-n', '-M', 'prepared', '-c', String(CLIENTS), '-j', '2', '-T', String(DURATION_S), '-f', script, url.pathname.slice(1)],
      {
        env: { ...process.env, PGHOST: url.hostname, PGPORT: url.port || '5432', PGUSER: decodeURIComponent(url.username), PGPASSWORD: decodeURIComponent(url.password) },
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`pgbench exited with ${code}:\n${out}`))));
  });
  const tps = Number(/tps = ([\d.]+)/.exec(output)?.[1]);
  // `times`: shell user/sys, then children's user/sys, as 0m1.234s.
  const seconds = [...output.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2])).slice(-4);
  const result = { tps, cpuSeconds: { client: (seconds[2] ?? Number.NaN) + (seconds[3] ?? Number.NaN), postgres: pg() } };
  progress(`pgbench: ${result.tps.toFixed(0)} tps`);
  return result;
}

const result = await alternate({ rounds: ROUNDS, baseline: pgbench, subject: mikroOrm, figure: (r) => r.tps });
report(
  'persistence',
  `MikroORM ${Math.round(result.subject.at(-1)!.tps)} bookings/s vs pgbench -M prepared ${Math.round(result.baseline.at(-1)!.tps)}/s (insert + update each)`,
  result.ratio,
  {
    settings: { clients: CLIENTS, durationSeconds: DURATION_S, rounds: ROUNDS, pgbench: `-n -M prepared -c ${CLIENTS} -j 2 -T ${DURATION_S}`, script: readFileSync(script, 'utf8') },
    goal: '>= 0.50',
    mikroOrm: result.subject,
    pgbench: result.baseline,
    ratios: result.ratios,
    note: 'postgres CPU is every postgres process on the machine (shared with other people\'s tests)',
  },
);
rmSync(dir, { recursive: true, force: true });
await orm.close();
process.exit(0);
