import { Hono } from 'hono';
import type Stripe from 'stripe';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { WebhookEvent } from '../../infra/db/entities.js';
import type { Orm } from '../../infra/db/orm.js';
import { paymentFailedSignal, paymentSucceededSignal } from '../../workflows/booking.workflow.js';
import type { AppEnv } from '../env.js';
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

/** Stripe webhooks: signature checked over the raw body, each event id acted on once. */
export function webhookRoutes(deps: { stripe: Stripe; webhookSecret: string; orm: Orm; temporal: Client }) {
  return new Hono<AppEnv>().post('/stripe', async (c) => {
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
    if (!action || !workflowId) return c.json({ received: true, handled: false });

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
      if (error instanceof UniqueConstraintViolationException) return c.json({ received: true, duplicate: true });
      throw error;
    }
    return c.json({ received: true, handled: true });
  });
}
