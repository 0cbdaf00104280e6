import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { AppEnv } from '../env.js';

/**
 * One server span per request, the root of the request's trace: workflow starts, activities and
 * their Stripe and supplier calls hang under it. Named by the route's template, never the raw path
 * (ids, query strings). A caller's traceparent is not followed: anyone can send one, and would pick
 * which trace our spans join. Probes and scrapes (`skip`) are not traced.
 */
export function traceRequests(options: { skip?: readonly string[] } = {}): MiddlewareHandler<AppEnv> {
  const skip = new Set(options.skip ?? []);
  return async function traceRequest(c, next) {
    if (skip.has(c.req.path)) return next();
    const span = trace.getTracer('travelconnect').startSpan(c.req.method, {
      kind: SpanKind.SERVER,
      root: true,
      attributes: { 'http.request.method': c.req.method, 'url.scheme': new URL(c.req.url).protocol.replace(/:$/, '') },
    });
    try {
      await context.with(trace.setSpan(context.active(), span), next);
    } finally {
      // The handler that answered, known once routing is done: '/api/v1/bookings/:id', '/*' where nothing matched.
      const route = routePath(c) || '*';
      span.updateName(`${c.req.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': c.res.status });
      if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  };
}
