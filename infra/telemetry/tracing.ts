import { context, diag, DiagLogLevel, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  NoopSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

/** A process's tracing: where its spans go, the workflows' included (they arrive through the worker's sink). */
export interface Tracing {
  readonly enabled: boolean;
  readonly resource: Resource;
  readonly spanProcessor: SpanProcessor;
  /** Sends what is buffered (a test reads the collector afterwards). */
  forceFlush(): Promise<void>;
  /** Flushes, then gives the process's OpenTelemetry globals back. */
  shutdown(): Promise<void>;
}

/**
 * Starts tracing for one process when an OTLP endpoint is configured; otherwise nothing is
 * registered, every tracer stays OpenTelemetry's no-op and workflow spans are dropped. The API's
 * context and propagation are process-wide by OpenTelemetry's design, so this belongs in a
 * composition root, once.
 */
export function startTracing(settings: Partial<Config['tracing']>, options: { service: string; log?: Logger }): Tracing {
  const resource = Resource.default().merge(new Resource({ 'service.name': options.service }));
  if (!settings.otlpTracesUrl) {
    return { enabled: false, resource, spanProcessor: new NoopSpanProcessor(), forceFlush: async () => {}, shutdown: async () => {} };
  }
  const spanProcessor = new BatchSpanProcessor(redacting(new OTLPTraceExporter({ url: settings.otlpTracesUrl })));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable(), propagator: new W3CTraceContextPropagator() });
  // An unreachable collector would otherwise drop spans in silence.
  if (options.log) {
    const log = options.log;
    const warn = (message: string) => log.warn({ component: 'opentelemetry' }, message);
    diag.setLogger({ error: warn, warn, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
  }
  return {
    enabled: true,
    resource,
    spanProcessor,
    forceFlush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
      diag.disable();
    },
  };
}

/**
 * What may leave the process in a span attribute: ids, names, routes and statuses, never a value a
 * caller sent. Temporal's interceptors merge the whole workflowInfo (memo, search attributes, the last
 * failure) into workflow spans and record exceptions with their messages; all of that stays here.
 */
export const EXPORTED_ATTRIBUTES: ReadonlySet<string> = new Set([
  // HTTP, server and client (OpenTelemetry's semantic conventions).
  'http.request.method', 'http.route', 'http.response.status_code', 'url.scheme', 'url.template',
  'server.address', 'server.port', 'peer.service', 'error.type',
  // @temporalio/interceptors-opentelemetry.
  'temporalWorkflowId', 'temporalActivityId', 'temporalUpdateId', 'run_id',
  // The workflowInfo fields its workflow exporter adds.
  'workflowId', 'runId', 'workflowType', 'taskQueue', 'namespace',
  // An exception event keeps its type only.
  'exception.type',
]);

function keep(attributes: ReadableSpan['attributes']): ReadableSpan['attributes'] {
  return Object.fromEntries(Object.entries(attributes).filter(([key]) => EXPORTED_ATTRIBUTES.has(key)));
}

/** A view of the span with only the allowed attributes, events' attributes and no status message. */
export function redactSpan(span: ReadableSpan): ReadableSpan {
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanId: span.parentSpanId,
    startTime: span.startTime,
    endTime: span.endTime,
    status: { code: span.status.code },
    attributes: keep(span.attributes),
    links: span.links.map((link) => ({ context: link.context })),
    events: span.events.map((event) => ({ name: event.name, time: event.time, ...(event.attributes ? { attributes: keep(event.attributes) } : {}) })),
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationLibrary: span.instrumentationLibrary,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

function redacting(exporter: SpanExporter): SpanExporter {
  return {
    export: (spans, done: (result: ExportResult) => void) => {
      try {
        exporter.export(spans.map(redactSpan), done);
      } catch (error) {
        done({ code: ExportResultCode.FAILED, error: error as Error });
      }
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}
