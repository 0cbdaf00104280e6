import { createRoute, z } from '@hono/zod-openapi';
import type Stripe from 'stripe';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { WebhookEvent } from '../../infra/db/entities.js';
import type { Orm } from '../../infra/db/orm.js';
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

/** Stripe webhooks: signature checked over the raw body, each event id acted on once. */
export function webhookRoutes(deps: { stripe: Stripe; webhookSecret: string; orm: Orm; temporal: Client }) {
  return createRouter().openapi(stripeWebhook, async (c) => {
    const signature = c.req.header('stripe-signature');
    const body = await c.req.text();
    let event: Stripe.Event;
    try {
      if (!signature) throw new Error('missing signature');
      event = await deps.stripe.webhooks.constructEventAsync(body, signature, deps.webhookSecret, SIGNATURE_TOLERANCE_SECONDS);
    } catch {
      throw new ApiError('VALIDATION_FAILED', 'The Stripe-Signature header does not match the body.');
    }
    const action = signalFor(event);
    const workflowId = (event.data.object as { metadata?: Record<string, string> }).metadata?.workflowId;
    if (!action || !workflowId) return c.json({ received: true as const, handled: false }, 200);

    // The event row and the signal commit together: a failed signal leaves Stripe to retry.
    try {
      await deps.orm.em.fork().transactional(async (em) => {
        em.create(WebhookEvent, { id: event.id, source: 'stripe', type: event.type });
        await em.flush();
        try {
          await deps.temporal.workflow.getHandle(workflowId).signal(action.signal, ...action.args);
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error; // a finished saga needs no news
        }
      });
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) return c.json({ received: true as const, duplicate: true }, 200);
      throw error;
    }
    return c.json({ received: true as const, handled: true }, 200);
  });
}
