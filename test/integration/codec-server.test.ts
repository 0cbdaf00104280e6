import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import { signIn } from '../support/sign-in.js';
import { startStack, type Stack } from '../support/stack.js';

// docs/api.md "Operators": the Web UI shows encrypted payloads through a codec server behind operator authentication.
let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const UI = new URL(process.env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233').origin;
const b64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('base64');

describe('codec server', () => {
  it('encodes and decodes payloads for operators, the same way the workers do', async () => {
    const operator = await signIn(stack, { role: 'support' });
    const plain = defaultPayloadConverter.toPayload({ passportNumber: 'X1234567' });
    const body = { payloads: [{ metadata: Object.fromEntries(Object.entries(plain.metadata!).map(([k, v]) => [k, b64(v)])), data: b64(plain.data) }] };
    const call = (path: string, payload: unknown, headers: Record<string, string>) =>
      fetch(`${stack.apiUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers }, body: JSON.stringify(payload) });

    const encoded = await call('/codec/encode', body, operator.auth);
    expect(encoded.status).toBe(200);
    const encrypted = (await encoded.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
    expect(Buffer.from(encrypted.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(encrypted.payloads[0]!.data, 'base64').toString('latin1')).not.toContain('X1234567');

    const decoded = await call('/codec/decode', encrypted, { ...operator.auth, origin: UI });
    expect(decoded.status).toBe(200);
    expect(decoded.headers.get('access-control-allow-origin')).toBe(UI);
    const back = (await decoded.json()) as { payloads: Array<{ data: string }> };
    expect(JSON.parse(Buffer.from(back.payloads[0]!.data, 'base64').toString())).toEqual({ passportNumber: 'X1234567' });

    // Travellers and strangers get nothing: the codec does not exist for them.
    expect((await call('/codec/decode', encrypted, (await signIn(stack)).auth)).status).toBe(404);
    expect((await call('/codec/decode', encrypted, {})).status).toBe(401);
    // CORS only for the Web UI's origin.
    const foreign = await fetch(`${stack.apiUrl}/codec/decode`, {
      method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${stack.apiUrl}/codec/decode`, {
      method: 'OPTIONS', headers: { origin: UI, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(UI);
  });

  it('limits each operator to 600 codec calls a minute (429 with Retry-After), and not other operators', async () => {
    const operator = await signIn(stack, { role: 'admin' });
    const body = JSON.stringify({ payloads: [{ metadata: { encoding: b64(new TextEncoder().encode('json/plain')) }, data: b64(new TextEncoder().encode('1')) }] });
    const decode = (auth: Record<string, string>) =>
      fetch(`${stack.apiUrl}/codec/decode`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body });
    const statuses: number[] = [];
    for (let batch = 0; batch < 610 / 61; batch += 1) {
      statuses.push(...(await Promise.all(Array.from({ length: 61 }, async () => (await decode(operator.auth)).status))));
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(600);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
    const refused = await decode(operator.auth);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await decode((await signIn(stack, { role: 'support' })).auth)).status).toBe(200);
  });

  it('refuses a decode naming more data keys than a history holds (400), before asking KMS for any', async () => {
    const operator = await signIn(stack, { role: 'support' });
    const encrypted = b64(new TextEncoder().encode('binary/encrypted'));
    const payloads = Array.from({ length: 1000 }, () => ({
      metadata: { encoding: encrypted, 'encryption-key-id': b64(randomBytes(16)), 'encryption-wrapped-key': b64(randomBytes(184)) },
      data: b64(randomBytes(64)),
    }));
    const response = await fetch(`${stack.apiUrl}/codec/decode`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...operator.auth }, body: JSON.stringify({ payloads }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('answers an empty Payloads message as the Temporal CLI sends it ({}: proto3 JSON omits an empty list)', async () => {
    // `temporal workflow show --codec-endpoint` posts {} for an event without payloads and retries a 400 until it times out.
    const operator = await signIn(stack, { role: 'support' });
    for (const path of ['/codec/decode', '/codec/encode']) {
      const response = await fetch(`${stack.apiUrl}${path}`, {
        method: 'POST', headers: { 'content-type': 'application/json', ...operator.auth }, body: '{}',
      });
      expect(response.status, path).toBe(200);
      expect(await response.json()).toEqual({ payloads: [] });
    }
  });

  it('declares the 429 in the OpenAPI document', async () => {
    const document = (await (await fetch(`${stack.apiUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    for (const path of ['/codec/decode', '/codec/encode']) expect(Object.keys(document.paths[path]!.post!.responses)).toContain('429');
  });
});
