import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createStripeClient } from '../../infra/stripe/stripe.gateway.js';
import { createTemporalClient } from '../../infra/temporal/connection.js';
import { createEncryptionCodec } from '../../infra/temporal/encryption-codec.js';
import { encryptedDataConverter } from '../../infra/temporal/data-converter.js';
import { createKmsKeyService } from '../../infra/kms/kms.key-service.js';
import { payloadTexts } from './payloads.js';
import { paths, type Context, type HistoryEvent, type Path } from './record-paths.js';
import { apiUrl, assertSuppliersUntouched, awaitStatus, call, config, log, type Booked, type Started } from './recorder-client.js';

/**
 * `npm run record:histories [-- <path-name>...] [--as=<name>] [--overwrite]`: drives the paths of the
 * booking saga and of the other workflows (test/replay/record-paths.ts) against the RUNNING stack
 * (`npm run up`) over HTTP and writes each workflow's history, as `temporal workflow show --output json`
 * prints it, to test/replay/histories/<path-name>.json (with no names: every path not recorded yet).
 * test/replay/replay.test.ts replays these against the current workflow code.
 *
 * Faults are set on the running sandbox suppliers only for as long as a path needs them and are
 * reset to {} afterwards, also when a path fails. Record again (and review the diff) whenever a new
 * path is added; never re-record to make a failing replay pass. Some paths wait out durations the
 * API reads from its environment; start it for recording as
 * `COMPENSATION_ALERT_ATTEMPTS=2 LATE_SUCCESS_SWEEP_MS=10000 ACCOUNT_DELETION_GRACE_MS=5000 TRUSTED_PROXIES=127.0.0.1,::1 npm run up`
 * (the last so that each traveller signs up from an address of its own: signups are limited per address).
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const historiesDir = fileURLToPath(new URL('./histories/', import.meta.url));
const temporalCli = `${root}.tools/bin/temporal`;

/** `--as=<name>`: write <path>--<name>.json, for recording a released path again under a new patch. */
const suffix = process.argv.find((arg) => arg.startsWith('--as='))?.slice('--as='.length);
if (suffix !== undefined && !/^[a-z0-9-]{1,40}$/.test(suffix)) throw new Error('--as= takes a short kebab-case name');
/**
 * `--overwrite`: record over an existing history. Without it a recorded history is kept: it is what
 * proves that runs started by older workflow code still replay.
 */
const overwrite = process.argv.includes('--overwrite');
const fileOf = (path: Path) => `${historiesDir}${path.name}${suffix ? `--${suffix}` : ''}.json`;

/** Waits for the path's end: its booking's final status, or (for a workflow that ends no booking) its result. */
async function outcome(path: Path, ctx: Context, started: Started): Promise<string> {
  const run = ctx.temporal.workflow.getHandle(started.workflowId);
  const { expected } = path;
  if ('continuedAsNew' in expected) {
    const first = ctx.temporal.workflow.getHandle(started.workflowId, started.runId);
    const deadline = Date.now() + 300_000;
    for (;;) {
      const { status } = await first.describe();
      if (status.name === 'CONTINUED_AS_NEW') return 'continued as new';
      if (status.name !== 'RUNNING') throw new Error(`${path.name}: the run ended ${status.name}, expected it to continue as new`);
      if (Date.now() > deadline) throw new Error(`${path.name}: the run has not ended after 5 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
  if ('result' in expected) {
    const result: unknown = await run.result();
    if (JSON.stringify(result) !== JSON.stringify(expected.result)) {
      throw new Error(`${path.name}: the workflow returned ${JSON.stringify(result)}, expected ${JSON.stringify(expected.result)}`);
    }
    return JSON.stringify(result);
  }
  if (!started.bookingId) throw new Error(`${path.name}: the path names no booking to check`);
  const timeoutMs = path.name === 'hold-expired' ? config.sandbox.holdTtlMs + 120_000 : 90_000;
  const booking = await awaitStatus(started as Booked, (s) => s === expected.status, timeoutMs, expected.status);
  if (booking.status !== expected.status || booking.failure?.code !== expected.failureCode) {
    throw new Error(`${path.name}: booking ended ${booking.status} ${booking.failure?.code ?? ''}, expected ${JSON.stringify(expected)}`);
  }
  // The final status is written by an activity just before the workflow returns: wait for the close.
  await run.result();
  return `${booking.status}${booking.failure ? ` (${booking.failure.code})` : ''}`;
}

async function record(path: Path, ctx: Context): Promise<void> {
  log(`${path.name}: starting`);
  const started = await path.run(ctx);
  log(`  ${started.workflowId}`);
  const ended = await outcome(path, ctx, started);

  const { stdout } = await promisify(execFile)(
    temporalCli,
    [
      'workflow', 'show',
      '--workflow-id', started.workflowId,
      ...(started.runId ? ['--run-id', started.runId] : []),
      '--output', 'json',
      '--address', config.temporal.address,
      '--namespace', config.temporal.namespace,
      '--color', 'never',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const history = JSON.parse(stdout) as { events?: HistoryEvent[] };
  const last = history.events?.at(-1)?.eventType;
  // Every path ends in a completion, the workflow cancellations too (the saga handles the cancellation and
  // returns), but for a run that continues as new.
  const end = 'continuedAsNew' in path.expected ? 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW' : 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED';
  if (last !== end) throw new Error(`${path.name}: history ends with ${last}, not ${end}`);
  const notThePath = path.verify?.(history.events ?? []);
  if (notThePath) throw new Error(`${path.name}: ${notThePath}; not written`);

  // Workflow inputs carry no passenger data by design; make sure nothing leaked into any payload.
  const texts = [stdout, ...(await payloadTexts(history, ctx.codec))];
  const leaked = started.traveller.pii.filter((value) => texts.some((text) => text.includes(value)));
  if (leaked.length > 0) throw new Error(`${path.name}: the history carries PII (${leaked.length} value(s)); not written`);

  // A path recorded again after a patched() change keeps its old history and gets a new one beside it.
  const file = fileOf(path);
  await writeFile(file, stdout.endsWith('\n') ? stdout : `${stdout}\n`);
  log(`  ${ended}: ${history.events?.length ?? 0} events -> test/replay/histories/${file.slice(historiesDir.length)}`);
}

async function main() {
  const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  const unknown = wanted.filter((name) => !paths.some((p) => p.name === name));
  if (unknown.length > 0) throw new Error(`unknown path(s) ${unknown.join(', ')}; known: ${paths.map((p) => p.name).join(', ')}`);
  // Named paths are recorded as asked; with none named, every path that has no history yet.
  const recorded = paths.filter((p) => existsSync(fileOf(p)));
  const selected = wanted.length > 0 ? paths.filter((p) => wanted.includes(p.name)) : paths.filter((p) => overwrite || !recorded.includes(p));
  const kept = selected.filter((p) => recorded.includes(p));
  if (kept.length > 0 && !overwrite) {
    throw new Error(`${kept.map((p) => p.name).join(', ')}: recorded already; pass --as=<name> to record beside the history, or --overwrite`);
  }
  if (selected.length === 0) {
    log('every path has a recorded history: nothing to do');
    return;
  }

  const health = await call(`${apiUrl}/healthz`).catch(() => undefined);
  if (health?.status !== 200) throw new Error(`the API does not answer at ${apiUrl}: start the stack with \`npm run up\``);
  await assertSuppliersUntouched();

  const stripe = createStripeClient(config.stripe);
  // localstripe sends webhooks only to registered endpoints; `npm run up` registers this one, again is harmless.
  const registered = await call(`${config.stripe.apiUrl}/_config/webhooks/travelconnect-dev`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${apiUrl}/api/v1/webhooks/stripe`, secret: config.stripe.webhookSecret }),
  });
  if (registered.status >= 300) throw new Error(`registering the webhook at the Stripe fake failed: ${registered.status}`);

  // The production data converter, so results read back and payloads can be checked for PII.
  const keys = createKmsKeyService(config.kms);
  const codec = await createEncryptionCodec(keys);
  const temporal = await createTemporalClient(config.temporal, encryptedDataConverter(codec));
  await mkdir(historiesDir, { recursive: true });
  try {
    for (const path of selected) await record(path, { temporal, stripe, codec });
  } finally {
    await temporal.connection.close();
    keys.destroy();
  }
  log(`recorded ${selected.length} histor${selected.length === 1 ? 'y' : 'ies'}`);
}

try {
  await main();
} catch (error) {
  process.stderr.write(`[record] failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
