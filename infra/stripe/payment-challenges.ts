import type Stripe from 'stripe';

/**
 * What the customer's browser does (docs/api.md "Paying: what a client needs"): run Stripe.js's
 * handleNextAction with the client secret.
 */
export interface PaymentChallenge {
  type: 'use_stripe_sdk';
  clientSecret: string;
}

/**
 * Stripe's next actions that handleNextAction completes in the browser for a card: its own 3-D Secure
 * frame, or a redirect to the issuer's page. Any other (a voucher, a bank transfer) is no card
 * challenge: nothing is offered, and the saga's wait ends with the hold.
 */
const BROWSER_ACTIONS: ReadonlySet<string> = new Set(['use_stripe_sdk', 'redirect_to_url']);

/**
 * What Stripe says of a PaymentIntent the saga waits on: the challenge to offer while the customer
 * must authenticate; once Stripe has decided, whether the card was authorized or failed. `asked`:
 * this read made the Stripe call (a read within the last few seconds shares an earlier answer).
 */
export interface ChallengeState {
  challenge: PaymentChallenge | null;
  decided?: 'authorized' | 'failed';
  asked: boolean;
}

type Answer = Omit<ChallengeState, 'asked'>;

/** How long one answer of Stripe's stands for every reader of the same PaymentIntent in this process. */
const ANSWER_TTL_MS = 5_000;
/** Enough for every booking awaiting a challenge at once on one API process; the oldest answers go first. */
const MAX_ANSWERS = 10_000;

/**
 * The challenge of a PaymentIntent that waits for the customer's 3-D Secure, read with the server's
 * secret key; null in any other state, so a finished or failed challenge is never offered again. The
 * secret lets a browser complete (or refuse) that one payment: callers show it to its owner only and
 * never log it.
 *
 * A client polls its booking while it waits, and each read would otherwise cost a Stripe call: one
 * account polling many bookings could spend the platform's Stripe rate limit. So Stripe is asked at
 * most once per PaymentIntent every few seconds per process, however many read it meanwhile (a read
 * during the call shares it). The secret stays in this process's memory only.
 */
export function createPaymentChallenges(client: Stripe, clock: () => number = Date.now) {
  const answers = new Map<string, { at: number; answer: Promise<Answer> }>();

  async function ask(paymentIntentId: string): Promise<Answer> {
    const intent = await client.paymentIntents.retrieve(paymentIntentId);
    if (intent.status === 'requires_capture' || intent.status === 'succeeded') return { challenge: null, decided: 'authorized' };
    if (intent.status === 'requires_payment_method' || intent.status === 'canceled') return { challenge: null, decided: 'failed' };
    const action = intent.next_action?.type;
    if (intent.status !== 'requires_action' || !intent.client_secret || !action || !BROWSER_ACTIONS.has(action)) return { challenge: null };
    return { challenge: { type: 'use_stripe_sdk', clientSecret: intent.client_secret } };
  }

  return {
    async stateOf(paymentIntentId: string): Promise<ChallengeState> {
      const now = clock();
      const known = answers.get(paymentIntentId);
      if (known && now - known.at < ANSWER_TTL_MS) return { ...(await known.answer), asked: false };
      answers.delete(paymentIntentId);
      if (answers.size >= MAX_ANSWERS) answers.delete(answers.keys().next().value as string);
      const answer = ask(paymentIntentId);
      answers.set(paymentIntentId, { at: now, answer });
      // A failed call is not remembered: the next read asks again.
      answer.catch(() => answers.get(paymentIntentId)?.answer === answer && answers.delete(paymentIntentId));
      return { ...(await answer), asked: true };
    },
  };
}
