import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

/**
 * A request path as a span may carry it: no query string, and every segment that is not a plain
 * lower-case word or an API version replaced, so `/v1/holds/H-12ab/confirm` is `/v1/holds/{id}/confirm`.
 */
export function urlTemplate(path: string): string {
  const bare = path.split(/[?#]/)[0] ?? '';
  return bare
    .split('/')
    .map((segment) => (segment === '' || /^[a-z][a-z_-]*$/.test(segment) || /^v\d+$/.test(segment) ? segment : '{id}'))
    .join('/');
}

/**
 * Runs one outgoing HTTP call (Stripe, a supplier) in a client span under whatever span is current:
 * the method, the host, the path's template and the answer's status; nothing that was sent or received.
 */
export async function inClientSpan<T>(
  call: { service: string; method: string; url: URL },
  send: () => Promise<T>,
  statusOf: (answer: T) => number,
): Promise<T> {
  const template = urlTemplate(call.url.pathname);
  const span = trace.getTracer('travelconnect').startSpan(`${call.method} ${template}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      'peer.service': call.service,
      'http.request.method': call.method,
      'server.address': call.url.hostname,
      'url.scheme': call.url.protocol.replace(/:$/, ''),
      'url.template': template,
      ...(call.url.port ? { 'server.port': Number(call.url.port) } : {}),
    },
  });
  try {
    const answer = await send();
    const status = statusOf(answer);
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    return answer;
  } catch (error) {
    span.setAttribute('error.type', error instanceof Error ? error.name : 'Error');
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}
