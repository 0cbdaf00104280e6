import { createRoute, z } from '@hono/zod-openapi';
import { createRouter, problems } from '../openapi.js';

const getConfig = createRoute({
  method: 'get',
  path: '/config',
  summary: 'What a browser pays with: the Stripe publishable key and the Stripe.js to load (cards never reach this API)',
  responses: {
    200: {
      description: 'Public: create the PaymentMethod at Stripe with these, then send its id to POST /bookings',
      content: {
        'application/json': {
          schema: z.object({ publishableKey: z.string(), stripeJsUrl: z.string() }).openapi('PaymentsConfig'),
        },
      },
    },
    ...problems(),
  },
});

/** docs/api.md "Paying: what a client needs"; public. */
export function paymentRoutes(options: { publishableKey: string; stripeJsUrl: string }) {
  return createRouter().openapi(getConfig, (c) => c.json({ publishableKey: options.publishableKey, stripeJsUrl: options.stripeJsUrl }, 200));
}
