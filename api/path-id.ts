import { z } from '@hono/zod-openapi';
import { ApiError } from './problem.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The `{id}` path parameter of a route, documented as a UUID. */
export const idPathParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, format: 'uuid', example: '6f1c2d3e-0a1b-4c2d-8e3f-4a5b6c7d8e9f' }) });

/**
 * A resource id from the path, lowercased. Anything but a UUID names nothing: 404, as for an
 * unknown id, and never the database's refusal to read it as a uuid (a 500).
 */
export function resourceIdOf(id: string): string {
  if (!UUID.test(id)) throw new ApiError('NOT_FOUND');
  return id.toLowerCase();
}
