import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from './env.js';
import { ApiError, ERROR_STATUS, type ErrorCode } from './problem.js';

/** A Hono sub-app whose routes document themselves; validation failures go through the error funnel. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new ApiError('VALIDATION_FAILED', {
          errors: result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(root)', message: issue.message })),
        });
      }
    },
  });
}

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string(),
    detail: z.string().optional(),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

/** The problem+json responses a route can give, by stable code. */
export function problems(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of [...codes, 'INTERNAL' as const]) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, statusCodes]) => [
      status,
      { description: statusCodes.join(', '), content: { 'application/problem+json': { schema: problemSchema } } },
    ]),
  );
}

// Refused by the middleware every request passes (api/app.ts) before any route runs, whatever the
// route: a cross-site browser request (the origin guard), a body over 1 MiB, a body that is not JSON.
const APP_WIDE_WRITE_PROBLEMS: readonly ErrorCode[] = ['CSRF_FAILED', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'];
const WRITES = new Set(['post', 'put', 'patch', 'delete']);

type Responses = Record<string, { description?: string; content?: unknown }>;

/**
 * Every state-changing operation documents what the app-wide middleware answers it, beside what its
 * route lists: the document must name every status an operation can answer (schemathesis holds the
 * running API to it, test/integration/schemathesis.test.ts).
 */
export function withAppWideProblems<T extends { paths?: object }>(document: T): T {
  const paths = Object.entries((document.paths ?? {}) as Record<string, Record<string, { responses?: Responses }>>).map(([path, operations]) => [
    path,
    Object.fromEntries(
      Object.entries(operations).map(([method, operation]) => {
        if (!WRITES.has(method) || !operation.responses) return [method, operation];
        const responses: Responses = { ...operation.responses };
        for (const code of APP_WIDE_WRITE_PROBLEMS) {
          const status = String(ERROR_STATUS[code]);
          const existing = responses[status];
          const codes = existing?.description ? existing.description.split(', ') : [];
          if (codes.includes(code)) continue;
          responses[status] = {
            ...existing,
            description: [...codes, code].join(', '),
            content: existing?.content ?? { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
          };
        }
        return [method, { ...operation, responses }];
      }),
    ),
  ]);
  return { ...document, paths: Object.fromEntries(paths) };
}

/**
 * A JSON Schema `pattern` is an ECMA-262 regex read in Unicode mode, written without delimiters;
 * zod writes a regex that has flags as `source/flags`, which no validator understands. Only the
 * Unicode flag can be dropped without changing the meaning; any other flag is a mistake in a schema.
 */
export function withPortablePatterns<T>(node: T): T {
  if (Array.isArray(node)) return node.map(withPortablePatterns) as T;
  if (node === null || typeof node !== 'object') return node;
  const entries = Object.entries(node).map(([key, value]) => {
    if (key !== 'pattern' || typeof value !== 'string') return [key, withPortablePatterns(value)];
    const flagged = /^(.*)\/([a-z]+)$/s.exec(value);
    if (!flagged) return [key, value];
    if (flagged[2] !== 'u' && flagged[2] !== 'v') throw new Error(`a schema pattern has flags JSON Schema cannot express: /${flagged[2]}`);
    return [key, flagged[1]];
  });
  return Object.fromEntries(entries) as T;
}
