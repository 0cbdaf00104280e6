import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnLogged, stopChild, waitUntilReady } from '../../dev/process.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A Stripe fake of the calling test file's own: the shim from this checkout on a free port, state
 * in a temporary directory. Its test hooks are always the checkout's (the shared fake on 8420 runs
 * whatever shim `npm run up` started), and every PaymentIntent it holds belongs to this file.
 * Pass `env` to startStack.
 */
export async function startOwnStripeFake() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tc-stripe-'));
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(dir, 'stripe.log');
  const spawned = spawnLogged(
    join(root, '.tools', 'venv', 'bin', 'python'),
    [join(root, 'dev', 'stripe', 'stripe_fake.py'), '--port', String(port), '--store', join(dir, 'stripe.pickle'), '--from-scratch'],
    { logFile, cwd: root },
  );
  const stop = async () => {
    await stopChild(spawned.child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ready = async () => (await fetch(`${url}/_tc/requests`).catch(() => null))?.status === 200;
    await waitUntilReady('stripe fake', ready, { timeoutMs: 30_000, logFile, spawned, intervalMs: 100 });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    env: { STRIPE_API_URL: url },
    /** Ends the processing of a `pm_card_processing` PaymentIntent: the bank authorizes it (see the shim). */
    async settle(paymentIntentId: string) {
      const response = await fetch(`${url}/_tc/settle`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ paymentIntent: paymentIntentId }),
      });
      if (!response.ok) throw new Error(`settling ${paymentIntentId} at the Stripe fake failed: ${response.status}`);
    },
    stop,
  };
}
