import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppEnv } from '../env.js';
import { traceRequests } from './tracing.js';

const spans = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
provider.register({ contextManager: new AsyncLocalStorageContextManager().enable(), propagator: new W3CTraceContextPropagator() });
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

const app = new Hono<AppEnv>();
app.use(traceRequests({ skip: ['/healthz'] }));
app.get('/healthz', (c) => c.text('ok'));
app.get('/items/:id', async (c) => {
  await Promise.resolve();
  trace.getTracer('test').startSpan('inside').end();
  return c.json({ id: c.req.param('id') });
});
app.get('/broken', () => {
  throw new Error('boom');
});
app.onError((_error, c) => c.text('failed', 500));

describe('traceRequests', () => {
  it("opens a root server span per request named by the route's template, the current span while the handler runs", async () => {
    spans.reset();
    const foreign = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const response = await app.request('/items/X1234567?email=ada@example.com', { headers: { traceparent: foreign } });
    expect(response.status).toBe(200);

    const [inside, server] = spans.getFinishedSpans();
    expect(server?.name).toBe('GET /items/:id');
    expect(server?.parentSpanId).toBeUndefined();
    expect(server?.spanContext().traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');
    expect(server?.attributes).toEqual({ 'http.request.method': 'GET', 'url.scheme': 'http', 'http.route': '/items/:id', 'http.response.status_code': 200 });
    expect(inside?.parentSpanId).toBe(server?.spanContext().spanId);
    expect(JSON.stringify(spans.getFinishedSpans().map((span) => [span.name, span.attributes]))).not.toMatch(/X1234567|ada@example/);
  });

  it('marks a failed request and skips the probes', async () => {
    spans.reset();
    expect((await app.request('/healthz')).status).toBe(200);
    expect((await app.request('/broken')).status).toBe(500);
    expect(spans.getFinishedSpans().map((span) => [span.name, span.status.code])).toEqual([['GET /broken', 2]]);
  });
});
