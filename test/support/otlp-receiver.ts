import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as a collector received it (OTLP/JSON: hex ids, attributes as typed values). */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  /** Its start, in milliseconds since the epoch. */
  start: number;
  service: string;
  attributes: Record<string, string | number | boolean>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: Array<{ spans?: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; startTimeUnixNano: string | number; attributes?: OtlpAttribute[] }> }>;
  }>;
}

function attributesOf(list: OtlpAttribute[] = []): ReceivedSpan['attributes'] {
  return Object.fromEntries(
    list.map(({ key, value }) => [key, value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.doubleValue ?? value.boolValue ?? '']),
  );
}

/**
 * An OTLP/HTTP trace receiver of the test's own (JSON encoding, what @opentelemetry/exporter-trace-otlp-http
 * sends): POST /v1/traces answers 200 and keeps the spans; the raw bodies are kept too, to search for
 * what must never leave a process.
 */
export async function startOtlpReceiver() {
  const spans: ReceivedSpan[] = [];
  const bodies: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/traces' || !request.headers['content-type']?.startsWith('application/json')) {
        response.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      bodies.push(body);
      for (const resourceSpans of (JSON.parse(body) as OtlpRequest).resourceSpans ?? []) {
        const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name'] ?? '');
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({
              traceId: span.traceId,
              spanId: span.spanId,
              ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
              name: span.name,
              kind: span.kind,
              start: Number(BigInt(span.startTimeUnixNano) / 1000n) / 1000,
              service,
              attributes: attributesOf(span.attributes),
            });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    /** What OTEL_EXPORTER_OTLP_ENDPOINT is set to. */
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans: (): readonly ReceivedSpan[] => spans,
    bodies: (): readonly string[] => bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The spans of one trace as an indented tree, children in start order, for a test to print. */
export function spanTree(spans: readonly ReceivedSpan[], root: ReceivedSpan, describe: (span: ReceivedSpan) => string = (span) => span.name): string[] {
  const lines: string[] = [];
  const walk = (span: ReceivedSpan, depth: number) => {
    lines.push(`${'  '.repeat(depth)}${describe(span)}`);
    const children = spans.filter((candidate) => candidate.parentSpanId === span.spanId).sort((a, b) => a.start - b.start);
    for (const child of children) walk(child, depth + 1);
  };
  walk(root, 0);
  return lines;
}
