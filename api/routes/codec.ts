import { createRoute, z } from '@hono/zod-openapi';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { KeyServiceUnavailableError, PayloadDecodeError } from '../../infra/temporal/encryption-codec.js';
import { createRouter, problems } from '../openapi.js';
import { ApiError } from '../problem.js';

// The Web UI's remote-codec wire format: Temporal Payloads in protobuf JSON (bytes as base64).
// Strict base64, as protobuf JSON writes bytes: Buffer.from() would skip anything else silently.
const base64 = z.string().regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'must be base64');
const metadataName = z.string().min(1).max(256).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII');
const payloadJson = z.strictObject({ metadata: z.record(metadataName, base64).optional(), data: base64.optional() });
// proto3 JSON omits an empty list: the Temporal CLI posts {} for an event without payloads.
const payloadsBody = z.strictObject({ payloads: z.array(payloadJson).max(1000).default([]) }).openapi('Payloads');

const toPayload = (p: z.infer<typeof payloadJson>): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

// A history's payloads come from the few processes that wrote them; more keys than this in one
// request would be a caller making the server ask KMS for each, not the Web UI showing a history.
const MAX_KEYS_PER_REQUEST = 32;

function withFewKeys(payloads: Payload[]): Payload[] {
  const wrappedKeys = new Set(payloads.map((p) => Buffer.from(p.metadata?.['encryption-wrapped-key'] ?? []).toString('base64')));
  if (wrappedKeys.size > MAX_KEYS_PER_REQUEST) throw new ApiError('VALIDATION_FAILED', { detail: `At most ${MAX_KEYS_PER_REQUEST} data keys per request.` });
  return payloads;
}

/** A payload that does not decode is the caller's input (400 at it); KMS out of reach is ours (503). */
function asProblem(error: unknown): never {
  if (error instanceof PayloadDecodeError) {
    throw new ApiError('VALIDATION_FAILED', { errors: [{ path: `payloads.${error.index}`, message: error.reason }] });
  }
  if (error instanceof KeyServiceUnavailableError) throw new ApiError('SERVICE_UNAVAILABLE');
  throw error;
}

const codecRoute = (path: '/encode' | '/decode', summary: string) =>
  createRoute({
    method: 'post',
    path,
    summary,
    request: { body: { content: { 'application/json': { schema: payloadsBody } }, required: true } },
    responses: {
      200: { description: 'The payloads, transformed', content: { 'application/json': { schema: payloadsBody } } },
      ...problems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'NOT_FOUND', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE'),
    },
  });

/**
 * The Temporal codec server (docs/api.md "Operators"): lets an operator's Web UI show the payloads
 * that the workers encrypt, with the same codec. Mounted behind operator authentication and a
 * per-operator rate limit.
 */
export function codecRoutes(codec: PayloadCodec) {
  return createRouter()
    .openapi(codecRoute('/decode', 'Operators: decrypt workflow payloads for the Web UI'), async (c) => {
      const decoded = await codec.decode(withFewKeys(c.req.valid('json').payloads.map(toPayload))).catch(asProblem);
      return c.json({ payloads: decoded.map(toJson) }, 200);
    })
    .openapi(codecRoute('/encode', 'Operators: encrypt payloads the Web UI sends (signals, queries)'), async (c) => {
      const encoded = await codec.encode(c.req.valid('json').payloads.map(toPayload));
      return c.json({ payloads: encoded.map(toJson) }, 200);
    });
}
