import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

type BookingCounts = Array<{ status: string; count: number }>;

/**
 * `load`'s answer, reused for `ttlMs` after it settles; callers that arrive while it is in flight
 * share it. A failure is kept as long, so an outage does not turn each scrape into a query.
 */
export function cachedFor<T>(ttlMs: number, load: () => Promise<T>, now: () => number = Date.now): () => Promise<T> {
  let current: { value: Promise<T>; freshUntil: number } | undefined;
  return function cached() {
    if (current && now() < current.freshUntil) return current.value;
    const entry = { value: load(), freshUntil: Number.POSITIVE_INFINITY };
    const settled = () => {
      entry.freshUntil = now() + ttlMs;
    };
    entry.value.then(settled, settled);
    current = entry;
    return entry.value;
  };
}

/** One registry per process; its metrics are what GET /metrics shows. */
export function createMetrics(options: {
  countBookingsByStatus: () => Promise<BookingCounts>;
  /** How long one count of bookings serves every scrape (METRICS_CACHE_MS): scrapes never queue queries. */
  cacheMs: number;
  /** Open reconciliation cases by kind (every kind, zeros included); no gauge when absent. */
  countOpenCasesByKind?: () => Promise<Array<{ kind: string; count: number }>>;
}) {
  const countBookings = cachedFor(options.cacheMs, options.countBookingsByStatus);
  const countCases = options.countOpenCasesByKind && cachedFor(options.cacheMs, options.countOpenCasesByKind);
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
    help: 'Requests refused with 429, by limit (docs/api.md), login failures included',
    labelNames: ['limit'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'bookings',
    help: 'Bookings by status (read from the system of record, at most METRICS_CACHE_MS old)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const counts = await countBookings();
      // Reset and refill without an await between: concurrent scrapes never see a half-filled gauge.
      this.reset();
      for (const { status, count } of counts) this.set({ status }, count);
    },
  });
  if (countCases) {
    new Gauge({
      name: 'reconciliation_cases_open',
      help: 'Open reconciliation cases by kind: provider, Stripe, Postgres and workflow disagree (at most METRICS_CACHE_MS old)',
      labelNames: ['kind'] as const,
      registers: [registry],
      async collect() {
        const counts = await countCases();
        this.reset();
        for (const { kind, count } of counts) this.set({ kind }, count);
      },
    });
  }
  return { registry, httpDuration, rateLimited };
}
export type Metrics = ReturnType<typeof createMetrics>;
