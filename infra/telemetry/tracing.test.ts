import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver } from '../../test/support/otlp-receiver.js';
import { inClientSpan, urlTemplate } from './client-span.js';
import { startTracing, type Tracing } from './tracing.js';

let running: Tracing | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
});

describe('tracing', () => {
  it('is off without an OTLP endpoint: nothing registered, no span recorded, no trace context sent', () => {
    running = startTracing({}, { service: 'unit' });
    expect(running.enabled).toBe(false);
    const span = trace.getTracer('unit').startSpan('nothing');
    expect(span.isRecording()).toBe(false);
    const carrier: Record<string, string> = {};
    context.with(trace.setSpan(context.active(), span), () => propagation.inject(context.active(), carrier));
    expect(carrier).toEqual({});
  });

  it('exports over OTLP/HTTP the spans of one trace, a client span under the current one, with only the allowed attributes', async () => {
    const receiver = await startOtlpReceiver();
    try {
      running = startTracing({ otlpTracesUrl: `${receiver.url}/v1/traces` }, { service: 'unit' });
      const tracer = trace.getTracer('unit');
      await tracer.startActiveSpan('RunActivity:authorizePayment', async (parent) => {
        parent.setAttributes({ temporalWorkflowId: 'booking-1', 'enduser.email': 'ada@example.com', passportNumber: 'X1234567' });
        // What Temporal's interceptors add to a workflow span: the whole workflowInfo.
        parent.setAttributes({ workflowType: 'bookingWorkflow', memo: 'client_secret pi_1_secret_abc' });
        const carrier: Record<string, string> = {};
        propagation.inject(context.active(), carrier);
        expect(carrier.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
        await expect(
          inClientSpan({ service: 'stripe', method: 'POST', url: new URL('http://127.0.0.1:8420/v1/payment_intents/pi_3Abc9/confirm?expand[]=latest_charge') }, async () => {
            throw new Error('card 4242424242424242 of ada@example.com');
          }, () => 200),
        ).rejects.toThrow();
        parent.recordException(new Error('passport X1234567 refused'));
        parent.end();
      });
      await running.forceFlush();

      const spans = receiver.spans();
      expect(spans.map((span) => span.name)).toEqual(['POST /v1/payment_intents/{id}/confirm', 'RunActivity:authorizePayment']);
      const [client, parent] = spans as [typeof spans[0], typeof spans[0]];
      expect(client).toMatchObject({ traceId: parent.traceId, parentSpanId: parent.spanId, kind: SpanKind.CLIENT + 1, service: 'unit' });
      expect(client.attributes).toEqual({
        'peer.service': 'stripe', 'http.request.method': 'POST', 'server.address': '127.0.0.1', 'server.port': 8420,
        'url.scheme': 'http', 'url.template': '/v1/payment_intents/{id}/confirm', 'error.type': 'Error',
      });
      expect(parent.attributes).toEqual({ temporalWorkflowId: 'booking-1', workflowType: 'bookingWorkflow' });
      const sent = receiver.bodies().join('\n');
      expect(sent).toContain('"exception.type"');
      for (const secret of ['ada@example.com', 'X1234567', '4242424242424242', 'pi_1_secret', 'pi_3Abc9', 'expand']) expect(sent).not.toContain(secret);
    } finally {
      await receiver.close();
    }
  });

  it('gives the process-wide OpenTelemetry state back when shut down', async () => {
    const first = startTracing({ otlpTracesUrl: 'http://127.0.0.1:9/v1/traces' }, { service: 'unit' });
    expect(trace.getTracer('unit').startSpan('on').isRecording()).toBe(true);
    await first.shutdown();
    expect(trace.getTracer('unit').startSpan('off').isRecording()).toBe(false);
    running = startTracing({ otlpTracesUrl: 'http://127.0.0.1:9/v1/traces' }, { service: 'unit' });
    expect(trace.getTracer('unit').startSpan('again').isRecording()).toBe(true);
  });

  it('names a path by its template: ids and query strings stay out', () => {
    expect(urlTemplate('/v1/holds/H-5f2c1e/confirm')).toBe('/v1/holds/{id}/confirm');
    expect(urlTemplate('/hotels/reservations?clientReference=booking-1')).toBe('/hotels/reservations');
    expect(urlTemplate('/v1/payment_intents/pi_3Nx8Yq2eZvKYlo2C0')).toBe('/v1/payment_intents/{id}');
    expect(urlTemplate('/hotels/rates/eyJyYXRl')).toBe('/hotels/rates/{id}');
  });
});
