import { createRequire } from 'node:module';
import type { ClientInterceptors } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkerOptions } from '@temporalio/worker';
import type { Tracing } from '../telemetry/tracing.js';

/**
 * Temporal's OpenTelemetry interceptors, installed whether tracing exports or not: without an OTLP
 * endpoint their tracer is OpenTelemetry's no-op and the workflows' spans are dropped at the sink. So
 * the workflow code a history replays against is the same with tracing on or off.
 */

/** The workflow side, which runs inside the bundle: a workflow continues its starter's trace and hands it to its activities. */
export const workflowInterceptorModules: readonly string[] = [
  createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
];

/** A workflow start (or signal, update, query) carries the caller's trace in the workflow's headers. */
export function tracingClientInterceptors(): ClientInterceptors {
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

/**
 * The worker's half: each activity runs in a span under the workflow's, and the workflow's spans leave
 * the sandbox through the `exporter` sink into this process's span processor. A worker that bundles the
 * workflows itself bundles the workflow side too; a prebuilt bundle has it from workflowBundleOptions
 * (and the SDK warns when a worker on one names workflow modules).
 */
export function tracingWorkerOptions(
  tracing: Pick<Tracing, 'spanProcessor' | 'resource'>,
  options: { prebuiltBundle?: boolean } = {},
): Required<Pick<WorkerOptions, 'interceptors' | 'sinks'>> {
  return {
    interceptors: {
      ...(options.prebuiltBundle ? {} : { workflowModules: [...workflowInterceptorModules] }),
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}
