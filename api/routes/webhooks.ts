import { createRoute, z } from '@hono/zod-openapi';
import type Stripe from 'stripe';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { paymentFailedSignal, paymentSucceededSignal } from '../../workflows/booking.workflow.js';
import { createRouter, problems } from '../openapi.js';
import { ApiError } from '../problem.js';

export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** The signal a PaymentIntent event means for its booking saga, if any. */
function signalFor(event: Stripe.Event) {
  switch (event.type) {
    case 'payment_intent.amount_capturable_updated':
    case 'payment_intent.succeeded':
      return { signal: paymentSucceededSignal, args: [] as [] } as const;
    case 'payment_intent.payment_failed':
      return { signal: paymentFailedSignal, args: [{ code: 'PAYMENT_DECLINED' }] as [{ code: string }] } as const;
    default:
      return undefined;
  }
}

const stripeWebhook = createRoute({
  method: 'post',
  path: '/stripe',
  summary: 'Stripe events (raw body, Stripe-Signature checked with a 300 s tolerance)',
  request: { headers: z.object({ 'stripe-signature': z.string().optional() }) },
  responses: {
    200: {
      description: 'Received: handled, a duplicate of an event already handled, or a type we do not act on',
      content: {
        'application/json': {
          schema: z.object({ received: z.literal(true), handled: z.boolean().optional(), duplicate: z.boolean().optional() }),
        },
      },
    },
    ...problems('VALIDATION_FAILED'),
  },
});

/** Webhook deliveries already handled (infra/db/webhook-events.store.ts): each event id acts once. */
export interface WebhookEvents {
  /** Records the event and runs `act` in the same transaction; 'duplicate' when the id was recorded before. */
  recordOnce(event: { id: string; source: string; type: string }, act: () => Promise<void>): Promise<'recorded' | 'duplicate'>;
}

/** Stripe webhooks: signature checked over the raw body, each event id acted on once. */
export function webhookRoutes(deps: { stripe: Stripe; webhookSecret: string; events: WebhookEvents; temporal: Client }) {
  return createRouter().openapi(stripeWebhook, async (c) => {
    const signature = c.req.header('stripe-signature');
    const body = await c.req.text();
    let event: Stripe.Event;
    try {
      if (!signature) throw new Error('missing signature');
      event = await deps.stripe.webhooks.constructEventAsync(body, signature, deps.webhookSecret, SIGNATURE_TOLERANCE_SECONDS);
    } catch {
      throw new ApiError('VALIDATION_FAILED', { detail: 'The Stripe-Signature header does not match the body.' });
    }
    const action = signalFor(event);
    const workflowId = (event.data.object as { metadata?: Record<string, string> }).metadata?.workflowId;
    if (!action || !workflowId) return c.json({ received: true as const, handled: false }, 200);

    // The event row and the signal commit together: a failed signal leaves Stripe to retry.
    const recorded = await deps.events.recordOnce({ id: event.id, source: 'stripe', type: event.type }, async () => {
      try {
        await deps.temporal.workflow.getHandle(workflowId).signal(action.signal, ...action.args);
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error; // a finished saga needs no news
      }
    });
    if (recorded === 'duplicate') return c.json({ received: true as const, duplicate: true }, 200);
    return c.json({ received: true as const, handled: true }, 200);
  });
}
