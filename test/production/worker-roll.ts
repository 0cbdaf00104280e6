import { dirname, join } from 'node:path';
import { decodeVersioningBehavior } from '@temporalio/common';
import { TERMINAL_STATUSES } from '../../domain/booking-status.js';
import { Booking } from '../../infra/db/entities.js';
import { createWorkerPool } from '../chaos/worker-pool.js';
import { json } from '../support/booking-client.js';
import { eventually } from '../support/eventually.js';
import { completeChallenge, threeDSecureCard } from '../support/three-d-secure.js';
import { bookAll, prepareTravellers, type ProductionOrder } from './production-load.js';
import { PRODUCTION_NAMESPACE, type ProductionStack } from './production-stack.js';
import { operatorCli, pinnedRunning, setCurrentVersion, workflowTasks } from './worker-deployment.js';

// Bookings started on build A, every other one waiting on 3-D Secure across the roll; then on build B.
const ON_A = 6;
const ON_B = 3;
// Days of their own (production-load.ts): the kill test books the first ones.
const FIRST_DAY = 200;

/** One saga of the batch, as its history and Postgres tell it. */
export interface RolledSaga {
  bookingId: string;
  workflowId: string;
  started: 'before the roll' | 'after the roll';
  threeDSecure: boolean;
  status: string;
  /** The builds whose workers completed its workflow tasks: as the workers reported them, and by worker process. */
  versions: string[];
  processes: string[];
  tasks: number;
  tasksAfterRoll: number;
  failedTasks: string[];
  completed: boolean;
  /** What describe() says of it: its versioning behaviour and the version it last ran on. */
  behavior: string | undefined;
  lastVersion: string | undefined;
}

/**
 * A worker roll in the middle of a batch, as README "Deploying workflow changes" describes it: bookings
 * start on build A (the stack's workers), the 3-D Secure ones stop to wait for the bank; workers of
 * build B start and B is made current; more bookings start; the challenges are completed; A keeps
 * polling until no saga pinned to it is open (the drain rule), then stops. Returns what each saga ran on.
 */
export async function rollMidBatch(s: ProductionStack, root: string, log: (line: string) => void) {
  const client = s.observer.temporal;
  const buildA = s.env.WORKER_BUILD_ID!;
  const buildB = `${buildA}-next`;
  const cli = await operatorCli(root, s.cluster, PRODUCTION_NAMESPACE);
  const stripe = { apiUrl: s.observer.config.stripe.apiUrl, secretKey: s.observer.config.stripe.secretKey, client: s.observer.stripe };
  const orders = await prepareTravellers(s, ON_A + ON_B, FIRST_DAY);
  const threeDSecure = new Set(orders.filter((_, i) => (i < ON_A ? i % 2 === 1 : i === ON_A + 1)));
  for (const order of orders) {
    // Every traveller pays with a good card, some with one the bank challenges: each booking should confirm.
    order.body.paymentMethodId = threeDSecure.has(order) ? await threeDSecureCard(s.observer.stripe) : 'pm_card_visa';
    order.card = threeDSecure.has(order) ? 'three_d_secure' : 'pm_card_visa';
  }
  const deadline = Date.now() + 120_000;
  const book = async (batch: ProductionOrder[]) => {
    const submissions = await bookAll(s, batch, 1_000, deadline);
    return submissions.map((submission) => {
      if (!submission.bookingId) throw new Error(`a booking was refused: ${submission.refused}`);
      return { order: submission.order as ProductionOrder, bookingId: submission.bookingId };
    });
  };
  const challenge = async (order: ProductionOrder, bookingId: string) => {
    const view = await eventually(
      async () => json(await order.traveller.get(bookingId)),
      (booking) => typeof booking.payment?.nextAction?.clientSecret === 'string' || TERMINAL_STATUSES.has(booking.status),
      { timeoutMs: 60_000, intervalMs: 500, what: `booking ${bookingId} to ask for 3-D Secure` },
    );
    return (view.payment?.nextAction?.clientSecret as string | undefined)?.split('_secret_')[0];
  };

  const onA = await book(orders.slice(0, ON_A));
  const waiting = await Promise.all(onA.filter(({ order }) => threeDSecure.has(order)).map(async (b) => ({ ...b, intent: await challenge(b.order, b.bookingId) })));
  // Visibility learns a saga's version from its first workflow task, a moment after it ran.
  const pinnedAtRoll = await eventually(() => pinnedRunning(client, buildA), (n) => n >= waiting.length, {
    timeoutMs: 30_000, intervalMs: 500, what: `the waiting sagas to show as pinned to ${buildA}`,
  });
  const pidsA = s.workers.pids;
  log(`roll: ${onA.length} bookings on ${buildA}, ${pinnedAtRoll} sagas pinned to it open (${waiting.length} waiting on 3-D Secure); starting ${buildB}`);

  const workersB = createWorkerPool({ env: { ...s.env, WORKER_BUILD_ID: buildB }, cwd: root, logFile: join(dirname(s.apis[0]!.logFile), 'workers-b.log'), size: 1, log });
  try {
    workersB.fill();
    await workersB.ready(180_000);
    await setCurrentVersion(cli, buildB);
    const rollAt = Date.now();
    log(`roll: ${buildB} is current; ${buildA} keeps polling for its pinned sagas`);

    const onB = await book(orders.slice(ON_A));
    // The bank's challenges answered after the roll: those sagas wake up, still pinned to A.
    for (const { intent, bookingId } of waiting) {
      if (!intent) throw new Error(`booking ${bookingId} ended before asking for 3-D Secure`);
      await completeChallenge(stripe, intent, true);
    }
    for (const { order, bookingId } of onB.filter(({ order }) => threeDSecure.has(order))) {
      const intent = await challenge(order, bookingId);
      if (intent) await completeChallenge(stripe, intent, true);
    }
    const ids = [...onA, ...onB].map((b) => b.bookingId);
    await eventually(
      () => s.observer.orm.em.fork().count(Booking, { id: { $in: ids }, status: { $nin: [...TERMINAL_STATUSES] } }),
      (n) => n === 0,
      { timeoutMs: 120_000, intervalMs: 1_000, what: 'every booking of the batch to finish' },
    );
    // The drain rule: A stops once no open workflow is pinned to it.
    await eventually(() => pinnedRunning(client, buildA), (n) => n === 0, { timeoutMs: 60_000, intervalMs: 1_000, what: `${buildA} to drain` });
    await s.workers.stopAll();
    log(`roll: ${buildA} drained and stopped`);

    const buildOf = new Map<number, string>([...pidsA.map((pid) => [pid, buildA] as const), ...workersB.pids.map((pid) => [pid, buildB] as const)]);
    const buildOfIdentity = (identity: string) => buildOf.get(Number(identity.split('@')[0]));
    const sagas: RolledSaga[] = [];
    for (const [started, batch] of [['before the roll', onA], ['after the roll', onB]] as const) {
      for (const { order, bookingId } of batch) {
        const booking = await s.observer.orm.em.fork().findOneOrFail(Booking, { id: bookingId });
        const { tasks, failedTasks, completed } = await workflowTasks(client, booking.workflowId, buildOfIdentity);
        const { raw } = await client.workflow.getHandle(booking.workflowId).describe();
        const versioning = raw.workflowExecutionInfo?.versioningInfo;
        sagas.push({
          bookingId,
          workflowId: booking.workflowId,
          started,
          threeDSecure: threeDSecure.has(order),
          status: booking.status,
          versions: [...new Set(tasks.map((task) => task.version ?? 'unversioned'))],
          processes: [...new Set(tasks.map((task) => task.process ?? 'unknown'))],
          tasks: tasks.length,
          tasksAfterRoll: tasks.filter((task) => task.at > rollAt).length,
          failedTasks,
          completed,
          behavior: decodeVersioningBehavior(versioning?.behavior),
          lastVersion: versioning?.deploymentVersion?.buildId ?? undefined,
        });
      }
    }
    return { buildA, buildB, pinnedAtRoll, sagas };
  } finally {
    await workersB.stopAll();
  }
}

/** One line a saga: where it started, what ran it. */
export function formatRoll(sagas: RolledSaga[]): string {
  return sagas.map((saga) => `  ${saga.workflowId.padEnd(48)} ${saga.started.padEnd(15)} ${saga.threeDSecure ? '3DS ' : 'card'} ${saga.status.padEnd(9)} `
    + `${saga.tasks} tasks (${saga.tasksAfterRoll} after the roll) on ${saga.versions.join('+')} [workers ${saga.processes.join('+')}] ${saga.behavior ?? '-'}`
    + `${saga.failedTasks.length > 0 ? ` FAILED TASKS: ${saga.failedTasks.join(', ')}` : ''}`).join('\n');
}
