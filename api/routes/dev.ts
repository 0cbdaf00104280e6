import { createRoute, z } from '@hono/zod-openapi';
import { createRouter, problems } from '../openapi.js';

const readOutbox = createRoute({
  method: 'get',
  path: '/outbox',
  summary: 'Development only: mail the development sink holds for an address, newest first',
  request: { query: z.strictObject({ to: z.email().max(255) }) },
  responses: {
    200: {
      description: 'Messages with the links they carry',
      content: {
        'application/json': {
          schema: z.object({
            messages: z.array(z.object({ to: z.string(), subject: z.string(), text: z.string(), links: z.array(z.string()), createdAt: z.string() })),
          }),
        },
      },
    },
    ...problems('VALIDATION_FAILED'),
  },
});

/** docs/api.md "Development only": mounted only outside production. */
export interface DevSinkMessage {
  to: string;
  subject: string;
  text: string;
  links: string[];
  createdAt: string;
}

export function devRoutes(deps: { devSink: (recipient: string) => Promise<DevSinkMessage[]> }) {
  return createRouter().openapi(readOutbox, async (c) => {
    return c.json({ messages: await deps.devSink(c.req.valid('query').to.trim().toLowerCase()) }, 200);
  });
}
