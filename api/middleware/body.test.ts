import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../env.js';
import { limitBody, MAX_BODY_BYTES, requireJson } from './body.js';
import { onError } from './errors.js';

const app = new Hono<AppEnv>()
  .onError(onError)
  .use(limitBody())
  .use(requireJson())
  .all('/echo', async (c) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength }));

/** A body sent as a stream, without Content-Length (as a chunked upload arrives). */
function streamed(bytes: number): ReadableStream<Uint8Array> {
  let left = bytes;
  return new ReadableStream({
    pull(controller) {
      if (left <= 0) return controller.close();
      const chunk = new Uint8Array(Math.min(left, 64 * 1024)).fill(0x20);
      left -= chunk.length;
      controller.enqueue(chunk);
    },
  });
}

const post = (init: RequestInit & { duplex?: 'half' }) => app.request('/echo', { method: 'POST', ...init });
const codeOf = async (response: Response) => ((await response.json()) as { code?: string }).code;

describe('limitBody middleware', () => {
  it('refuses a declared length over 1 MiB by its header alone, and takes exactly 1 MiB', async () => {
    const over = await post({ headers: { 'Content-Type': 'application/json', 'Content-Length': String(MAX_BODY_BYTES + 1) }, body: '{}' });
    expect(over.status).toBe(413);
    expect(await codeOf(over)).toBe('PAYLOAD_TOO_LARGE');
    const atLimit = await post({ headers: { 'Content-Type': 'application/json' }, body: `"${'a'.repeat(MAX_BODY_BYTES - 2)}"` });
    expect(atLimit.status).toBe(200);
    expect(await atLimit.json()).toEqual({ bytes: MAX_BODY_BYTES });
  });

  it('counts a body sent without a length and refuses it past 1 MiB, telling the client the connection closes', async () => {
    const over = await post({ headers: { 'Content-Type': 'application/json' }, body: streamed(MAX_BODY_BYTES + 1), duplex: 'half' });
    expect(over.status).toBe(413);
    expect(over.headers.get('connection')).toBe('close');
    const under = await post({ headers: { 'Content-Type': 'application/json' }, body: streamed(1000), duplex: 'half' });
    expect(await under.json()).toEqual({ bytes: 1000 });
  });

  it('leaves GET alone whatever it declares', async () => {
    expect((await app.request('/echo', { headers: { 'Content-Length': String(MAX_BODY_BYTES * 2) } })).status).toBe(200);
  });
});

describe('requireJson middleware', () => {
  it('refuses a body of any other media type with 415', async () => {
    for (const [method, type] of [['POST', 'text/plain'], ['PUT', 'application/x-www-form-urlencoded'], ['PATCH', 'multipart/form-data; boundary=x'], ['DELETE', 'application/jsonp'], ['POST', '']] as const) {
      // As it arrives off the wire: a body comes with its length (in-process, a DELETE's would not say so).
      const response = await app.request('/echo', { method, headers: { 'Content-Length': '7', ...(type ? { 'Content-Type': type } : {}) }, body: '{"a":1}' });
      expect(response.status, `${method} ${type}`).toBe(415);
      expect(await codeOf(response)).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('takes JSON with parameters or in capitals, and requests with no body at all', async () => {
    expect((await post({ headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: '{}' })).status).toBe(200);
    expect((await post({ headers: { 'Content-Type': 'Application/JSON' }, body: '{}' })).status).toBe(200);
    expect((await post({})).status).toBe(200);
    expect((await app.request('/echo', { method: 'DELETE' })).status).toBe(200);
    expect((await post({ headers: { 'Content-Type': 'text/plain', 'Content-Length': '0' } })).status).toBe(200);
  });
});
