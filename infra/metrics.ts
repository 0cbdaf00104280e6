import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process; its metrics are what GET /metrics shows. */
export function createMetrics(options: { countBookingsByStatus: () => Promise<Array<{ status: string; count: number }>> }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'http_rate_limited_total',
    help: 'Requests refused with 429, by limit (api.md), login failures included',
    labelNames: ['limit'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'bookings',
    help: 'Bookings by status (read from the system of record at scrape time)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const { status, count } of await options.countBookingsByStatus()) this.set({ status }, count);
    },
  });
  return { registry, httpDuration, rateLimited };
}
export type Metrics = ReturnType<typeof createMetrics>;
