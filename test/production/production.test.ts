import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_STATUSES } from '../../domain/booking-status.js';
import { Booking } from '../../infra/db/entities.js';
import { localPki } from '../../dev/cluster/pki.js';
import { rawExchange } from '../../dev/process.js';
import { eventually } from '../support/eventually.js';
import { checkInvariants } from '../chaos/invariants.js';
import { formatVerdict } from './figures.js';
import { bookAll, prepareTravellers, type ProductionOrder } from './production-load.js';
import { startProductionStack, type ProductionStack } from './production-stack.js';
import { operatorToken, temporalCli } from './operator.js';
import { startApiAgainst, type Distrust } from './untrusted-store.js';
import { mtlsAnswer } from './mtls-probe.js';
import { formatRoll, rollMidBatch } from './worker-roll.js';

/**
 * `npm run test:production`: the production profile (see production-stack.ts) books through both
 * APIs while one history service, one matching service and one worker are SIGKILLed mid-batch; every
 * booking must end terminal with the chaos suite's invariants. Then an operator finds a confirmed
 * booking with the Temporal CLI over mTLS and reads its payloads through the codec server only.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const BOOKINGS = Number(process.env.PRODUCTION_BOOKINGS ?? 24);
const ARRIVALS_MS = 40_000;

let dir: string;
let stack: ProductionStack | undefined;
let passed = false;
const began = Date.now();
const timeline: string[] = [];
const log = (line: string) => {
  const stamped = `+${((Date.now() - began) / 1000).toFixed(1)}s ${line}`;
  timeline.push(stamped);
  process.stdout.write(`[production] ${stamped}\n`);
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tc-production-'));
  stack = await startProductionStack(root, dir, log);
}, 600_000);

afterAll(async () => {
  await stack?.stop();
  if (passed) rmSync(dir, { recursive: true, force: true });
  else process.stdout.write(`production profile: logs and state kept in ${dir}\n`);
}, 120_000);

describe('production profile', () => {
  it('speaks TLS only to every store: plaintext Postgres, Redis and Temporal are turned away', async () => {
    const s = stack!;
    expect(await plaintextPostgresStartup(s.postgres.port)).toMatch(/no encryption/);
    // The only Redis port is the TLS one: a plaintext PING gets no PONG.
    expect(await rawExchange('127.0.0.1', s.redis.port, 'PING\r\n')).not.toContain('+PONG');
    // Temporal's frontend: no TLS, or TLS without a client certificate, is refused.
    await expect(Connection.connect({ address: s.cluster.address, connectTimeout: 3_000 }).then((c) => c.workflowService.getSystemInfo({})))
      .rejects.toThrow();
    await expect(
      Connection.connect({ address: s.cluster.address, connectTimeout: 3_000, tls: { serverNameOverride: s.cluster.serverName, serverRootCACertificate: readFileSync(s.cluster.caFile) } })
        .then((c) => c.workflowService.getSystemInfo({})),
    ).rejects.toThrow();
    // The fakes are in only through the override, and each production process says so.
    for (const api of s.apis) expect(readFileSync(api.logFile, 'utf8')).toMatch(/production is using the local (Stripe|KMS) fake.*TC_ALLOW_LOCAL_FAKES/);
  });

  it("lets only the client CA's certificates call the frontend, and only the internode CA's into the services behind it", async () => {
    const s = stack!;
    const frontend = s.cluster.processes.find((p) => p.role === 'frontend')!.grpcPort;
    const history = s.cluster.processes.find((p) => p.name === 'history-2')!.grpcPort;
    // Any other leaf of the deployment's CA (one a store could present) is neither a client nor a member.
    const stray = await s.pki.issue('stray', ['stray.travelconnect.local']);
    expect(await mtlsAnswer(frontend, stray), 'a stray leaf at the frontend').toBe('refused');
    expect(await mtlsAnswer(history, stray), 'a stray leaf at history').toBe('refused');
    // The application's certificate calls the frontend, never history or matching directly.
    expect(await mtlsAnswer(frontend, s.cluster.client), 'the app at the frontend').toBe('accepted');
    expect(await mtlsAnswer(history, s.cluster.client), 'the app at history').toBe('refused');
    // A member's certificate is good in the ring and nowhere else: no client of the frontend.
    expect(await mtlsAnswer(history, s.cluster.internode), 'a member at history').toBe('accepted');
    expect(await mtlsAnswer(frontend, s.cluster.internode), 'a member at the frontend').toBe('refused');
  });

  it('trusts only the CA each client is configured with, and only for the name it connects to', async () => {
    const s = stack!;
    // No process of the profile is told to trust the test CA machine-wide: each client's own CA setting is all it has.
    expect(s.env.NODE_EXTRA_CA_CERTS).toBeUndefined();
    const other = await localPki(join(dir, 'other-ca'));
    const mounted = (path: string | undefined) => readFileSync(path!, 'utf8').trim();
    const remount = (name: string, value: string) => {
      const path = join(dir, 'secrets', name);
      writeFileSync(path, `${value}\n`, { mode: 0o600 });
      return path;
    };
    const databaseUrl = mounted(s.env.DATABASE_URL_FILE);
    const redisUrl = mounted(s.env.REDIS_URL_FILE);
    const byIp = (url: string) => url.replace('@localhost:', '@127.0.0.1:');
    // Another CA configured while the machine's own store trusts the real one: a client that added its
    // CA file to the system's CAs, rather than trusting it alone, would accept the store.
    const otherCa = { NODE_EXTRA_CA_CERTS: s.pki.caFile };
    const cases: Array<[string, NodeJS.ProcessEnv, RegExp]> = [
      ['Postgres signed by another CA', { ...otherCa, DATABASE_SSL_CA_FILE: other.caFile }, SIGNED_ELSEWHERE],
      ['Postgres reached by an address its certificate does not carry', { DATABASE_URL_FILE: remount('database-url-by-ip', byIp(databaseUrl)) }, OTHER_NAME],
      ['Redis signed by another CA', { ...otherCa, REDIS_TLS_CA_FILE: other.caFile }, SIGNED_ELSEWHERE],
      ['Redis reached by an address its certificate does not carry', { REDIS_URL_FILE: remount('redis-url-by-ip', byIp(redisUrl)) }, OTHER_NAME],
      // grpc-js names no cause, only its deadline: these differ from the profile's own APIs, which connect, by the CA or the name alone.
      ['Temporal signed by another CA', { ...otherCa, TEMPORAL_TLS_CA_FILE: other.caFile }, NO_CONNECTION],
      ['Temporal under a name its certificate does not carry', { TEMPORAL_TLS_SERVER_NAME: 'temporal.travelconnect.example' }, NO_CONNECTION],
    ];
    const secrets = [new URL(databaseUrl).password, new URL(redisUrl).password, decodeURIComponent(new URL(redisUrl).password), 'PRIVATE KEY'];
    const outcomes: Array<[string, Distrust]> = [];
    // Three at a time: each is a whole API process on a 2-core machine.
    for (let i = 0; i < cases.length; i += 3) {
      outcomes.push(...await Promise.all(cases.slice(i, i + 3).map(async ([name, overrides]) => [name, await startApiAgainst(root, { ...s.env, ...overrides })] as [string, Distrust])));
    }
    const told = (o: Distrust) => (o.exitCode !== undefined ? `exit ${o.exitCode}` : o.readyz === 200 ? 'READY' : `never ready (readyz ${o.readyz})`);
    log(`untrusted stores: ${outcomes.map(([name, o]) => `${name}: ${told(o)}`).join('; ')}`);
    const wrong = outcomes.flatMap(([name, outcome], index) => [
      ...(outcome.readyz === 200 || outcome.exitCode === 0 ? [`${name}: ${told(outcome)}`] : []),
      ...(cases[index]![2].test(outcome.output) ? [] : [`${name}: no refusal of the store in its output:\n${outcome.output.slice(-2000)}`]),
      ...(secrets.some((secret) => outcome.output.includes(secret)) ? [`${name}: printed a secret`] : []),
    ]);
    expect(wrong).toEqual([]);
  });

  it(`books ${BOOKINGS} trips through both APIs while a history service, a matching service and a worker are killed`, { timeout: 900_000 }, async () => {
    const s = stack!;
    const orders: ProductionOrder[] = await prepareTravellers(s, BOOKINGS);
    log(`${orders.length} travellers signed up (mail through SMTP) and verified, alternating between the two APIs`);
    const userIds = orders.map((o) => o.traveller.userId);
    const unfinished = () => s.observer.orm.em.fork().count(Booking, { user: { $in: userIds }, status: { $nin: [...TERMINAL_STATUSES] } });

    const batchBegan = Date.now();
    const history = s.cluster.processes.find((p) => p.name === 'history-1')!;
    const matching = s.cluster.processes.find((p) => p.name === 'matching-1')!;
    const kills: string[] = [];
    const inFlight: number[] = [];
    const at = (ms: number, what: () => Promise<unknown>) => new Promise<void>((resolve) => setTimeout(() => void what().then(() => resolve(), () => resolve()), ms));
    const kill = async (name: string, action: () => Promise<unknown>) => {
      inFlight.push(await unfinished());
      await action();
      kills.push(name);
      log(`SIGKILL ${name} (${inFlight.at(-1)} bookings unfinished)`);
    };
    const faults = Promise.all([
      at(ARRIVALS_MS * 0.25, () => kill('history-1', () => history.kill())),
      at(ARRIVALS_MS * 0.25 + 20_000, async () => (await history.start(), log('history-1 back'))),
      at(ARRIVALS_MS * 0.45, () => kill('matching-1', () => matching.kill())),
      at(ARRIVALS_MS * 0.45 + 20_000, async () => (await matching.start(), log('matching-1 back'))),
      at(ARRIVALS_MS * 0.6, () => kill('worker', () => s.workers.killOne(0))),
      at(ARRIVALS_MS * 0.6 + 5_000, async () => (s.workers.fill(), log('a new worker process started'))),
    ]);
    const submissions = await bookAll(s, orders, ARRIVALS_MS, batchBegan + ARRIVALS_MS + 180_000);
    await faults;
    await eventually(unfinished, (n) => n === 0, { timeoutMs: 300_000, intervalMs: 2_000, what: 'every booking to finish' });
    // Visibility is written by the history shards' own queue, so a shard that moved hosts catches up
    // after its sagas closed; the invariants read it (no saga still "Running") once it has.
    const running = () => s.observer.temporal.workflow.count('ExecutionStatus = "Running" AND WorkflowType = "bookingWorkflow"');
    await eventually(running, ({ count }) => count === 0, { timeoutMs: 90_000, intervalMs: 2_000, what: 'visibility to show no running saga' })
      .catch((error: Error) => log(error.message));
    const drained = Date.now();
    const verdict = await checkInvariants(s.observer, submissions);
    process.stdout.write(`\n${formatVerdict({
      bookings: orders.length,
      apis: s.apiUrls.length,
      kills,
      inFlight,
      workerStarts: s.workers.stats,
      verdict,
      seconds: { setup: Math.round((batchBegan - began) / 1000), batch: Math.round((drained - batchBegan) / 1000), total: Math.round((Date.now() - began) / 1000) },
    })}\n`);

    expect(verdict.violations).toEqual([]);
    expect(kills).toEqual(['history-1', 'matching-1', 'worker']);
    expect(Math.max(...inFlight)).toBeGreaterThan(0);
    expect(s.workers.stats.crashes).toBe(0);
    // Both APIs took bookings, and the good cards mostly confirmed.
    expect(new Set(submissions.filter((x) => x.bookingId).map((x) => (x.order as ProductionOrder).api)).size).toBe(2);
    const good = orders.filter((o) => o.card === 'pm_card_visa').length;
    expect(verdict.outcomes.CONFIRMED ?? 0).toBeGreaterThanOrEqual(Math.ceil(good * 0.5));
  });

  it('finds a CONFIRMED booking with the Temporal CLI over mTLS; its payloads decode only through the codec server', async () => {
    const s = stack!;
    const confirmed = await s.observer.orm.em.fork().findOneOrFail(Booking, { status: 'CONFIRMED' });
    const cli = await temporalCli(root, s);
    const listed = await cli(['workflow', 'list', '--query', "BookingStatus='CONFIRMED'", '-o', 'json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(confirmed.workflowId);
    // Without the operator's client certificate the frontend does not answer.
    const anonymous = await cli(['workflow', 'list', '--query', "BookingStatus='CONFIRMED'"], { clientCert: false });
    expect(anonymous.code).not.toBe(0);

    // Raw history: every payload is ciphertext under KMS-wrapped keys; the input's user id is nowhere in clear.
    const raw = await cli(['workflow', 'show', '--workflow-id', confirmed.workflowId, '-o', 'json']);
    expect(raw.code, raw.stderr).toBe(0);
    const bookkeeping: WirePayload[] = [];
    const payloads = payloadsIn(JSON.parse(raw.stdout), '', [], bookkeeping);
    expect(payloads.length).toBeGreaterThan(0);
    for (const payload of payloads) expect(decodeB64(payload.metadata?.encoding), payload.path).toBe('binary/encrypted');
    const userId = confirmed.user.id;
    expect(payloads.some((p) => decodeB64(p.data).includes(userId))).toBe(false);
    // The saga's settled statuses are local activities: their markers' plain part is core's bookkeeping only.
    expect(bookkeeping.length).toBeGreaterThan(0);
    for (const entry of bookkeeping) {
      const fields = JSON.parse(decodeB64(entry.data)) as Record<string, unknown>;
      expect(Object.keys(fields).sort()).toEqual(['activity_id', 'activity_type', 'attempt', 'backoff', 'complete_time', 'original_schedule_time', 'seq']);
      expect(fields.activity_type).toBe('setBookingStatus');
    }

    // Through the codec server, with an operator's token: the same history in clear.
    const token = await operatorToken(s);
    const decoded = await cli([
      'workflow', 'show', '--workflow-id', confirmed.workflowId, '-o', 'json',
      '--codec-endpoint', `${s.apiUrls[0]}/codec`, '--codec-auth', `Bearer ${token}`,
    ]);
    expect(decoded.code, decoded.stderr).toBe(0);
    const clear = payloadsIn(JSON.parse(decoded.stdout));
    expect(clear.some((p) => decodeB64(p.metadata?.encoding) === 'json/plain' && decodeB64(p.data).includes(userId))).toBe(true);
    // A traveller's token is not an operator's: the codec server refuses it.
    const refused = await cli([
      'workflow', 'show', '--workflow-id', confirmed.workflowId, '-o', 'json',
      '--codec-endpoint', `${s.apiUrls[0]}/codec`, '--codec-auth', 'Bearer not-a-token',
    ]);
    expect(refused.code).not.toBe(0);
    passed = true;
  });

  // Last: it stops the stack's workers (build A) once they have drained, and leaves build B's stopped too.
  it('rolls the workers to a new build mid-batch: running sagas finish on their build, new ones start on the next, none fails', { timeout: 300_000 }, async () => {
    passed = false;
    const rollBegan = Date.now();
    const { buildA, buildB, pinnedAtRoll, sagas } = await rollMidBatch(stack!, root, log);
    process.stdout.write(`\nworker roll ${buildA} → ${buildB} in ${Math.round((Date.now() - rollBegan) / 1000)} s:\n${formatRoll(sagas)}\n`);

    // Sagas were mid-flight across the roll: pinned to A when B became current, and woken on A after it.
    expect(pinnedAtRoll).toBeGreaterThanOrEqual(3);
    const crossed = sagas.filter((saga) => saga.started === 'before the roll' && saga.threeDSecure);
    expect(crossed.map((saga) => saga.tasksAfterRoll > 0)).toEqual(crossed.map(() => true));
    // Every workflow task of a saga ran on the build it started on, as its workers reported it and by the
    // worker processes that completed it; each confirmed, with no workflow task failed but for the one
    // refusal a late signal causes (a webhook while the task completing the saga is open: that task runs again).
    const ran = (saga: (typeof sagas)[number]) => ({
      workflowId: saga.workflowId, status: saga.status, versions: saga.versions, processes: saga.processes,
      behavior: saga.behavior, failedTasks: saga.failedTasks.filter((cause) => cause !== 'WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND'), completed: saga.completed,
    });
    const expected = (saga: (typeof sagas)[number]) => {
      const build = saga.started === 'before the roll' ? buildA : buildB;
      return { workflowId: saga.workflowId, status: 'CONFIRMED', versions: [build], processes: [build], behavior: 'PINNED', failedTasks: [], completed: true };
    };
    expect(sagas.map(ran)).toEqual(sagas.map(expected));
    expect(sagas.filter((saga) => saga.started === 'after the roll').length).toBeGreaterThan(0);
    passed = true;
  });
});

interface WirePayload { metadata?: Record<string, string>; data?: string; path: string }

/**
 * Every payload of a history as the CLI prints it in JSON, with where it sits. Search attributes
 * (`indexedFields`, readable on purpose and free of PII) and the SDK's own patch markers (they
 * name a patch, nothing else) never pass through the data converter and are left out.
 */
function payloadsIn(value: unknown, path = '', found: WirePayload[] = [], bookkeeping: WirePayload[] = []): WirePayload[] {
  if (Array.isArray(value)) value.forEach((item, i) => payloadsIn(item, `${path}[${i}]`, found, bookkeeping));
  else if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (record.markerName === 'core_patch') return found;
    if (record.markerName === 'core_local_activity') {
      // A local activity's marker: core's own bookkeeping as plain JSON under `data`, set aside for its own
      // check; the rest (the result) goes through the codec like every other payload.
      const { data, ...details } = (record.details ?? {}) as { data?: { payloads?: WirePayload[] } };
      bookkeeping.push(...(data?.payloads ?? []));
      for (const [key, item] of Object.entries({ ...record, details })) payloadsIn(item, `${path}.${key}`, found, bookkeeping);
      return found;
    }
    if (Array.isArray(record.payloads)) found.push(...(record.payloads as WirePayload[]).map((p, i) => ({ ...p, path: `${path}.payloads[${i}]` })));
    else for (const [key, item] of Object.entries(record)) if (key !== 'indexedFields') payloadsIn(item, `${path}.${key}`, found, bookkeeping);
  }
  return found;
}

/** What Node's TLS says when a chain ends at a CA it was not given, and when the certificate names another host. */
const SIGNED_ELSEWHERE = /self[- ]signed certificate in certificate chain|unable to (verify|get local issuer)|SELF_SIGNED_CERT_IN_CHAIN/i;
const OTHER_NAME = /does not match certificate's altnames|ERR_TLS_CERT_ALTNAME_INVALID/i;
const NO_CONNECTION = /Failed to connect before the deadline/;

const decodeB64 = (value: string | undefined) => (value ? Buffer.from(value, 'base64').toString('utf8') : '');

/** A Postgres StartupMessage over plain TCP (no SSLRequest first): what the server answers. */
function plaintextPostgresStartup(port: number): Promise<string> {
  const params = Buffer.from('user\0travelconnect_app\0database\0travelconnect\0\0');
  const header = Buffer.alloc(8);
  header.writeInt32BE(8 + params.length, 0);
  header.writeInt32BE(196608, 4); // protocol 3.0
  return new Promise((resolve) => {
    let reply = '';
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(Buffer.concat([header, params])));
    socket.setTimeout(5_000, () => socket.destroy());
    socket.on('data', (data) => (reply += data.toString('latin1')));
    socket.on('close', () => resolve(reply));
    socket.on('error', () => resolve(reply));
  });
}
