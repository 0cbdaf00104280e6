import { createServer, type Server } from 'node:http';
import { MetricsBuffer, Runtime, type BufferedMetricUpdate } from '@temporalio/worker';
import { bearerTokenCheck } from '../auth/bearer-token.js';

/**
 * The Temporal SDK's worker metrics (task slots, poll latencies, schedule-to-start, the sticky
 * cache), kept in this process and served like the API's /metrics: only to the holder of
 * METRICS_TOKEN. The SDK's own Prometheus exporter answers anyone who reaches its port, so the
 * worker takes Core's metrics from a buffer (Runtime's `metrics.buffer`) and renders them here.
 */

// Core reports durations in milliseconds; these cover a poll's few ms to a long poll's minute.
const BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000];

type Kind = 'counter' | 'gauge' | 'histogram';
interface Histogram { buckets: number[]; sum: number; count: number }
interface Series { pairs: string[]; value: number | Histogram }
interface Family { kind: Kind; help: string; series: Map<string, Series> }

const name = (value: string) => value.replace(/[^A-Za-z0-9_:]/g, '_').replace(/^(?=\d)/, '_');
const escape = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** An update's attributes as Prometheus label pairs, in a stable order (`a="1"`, `b="x"`). */
const labelPairs = (attributes: Record<string, string | number | boolean>) =>
  Object.keys(attributes).sort().map((key) => `${name(key)}="${escape(String(attributes[key]))}"`);
const braced = (pairs: string[]) => (pairs.length === 0 ? '' : `{${pairs.join(',')}}`);

// Label values come from Core (task queues, activity and workflow types): bounded in practice, capped here
// so a runaway label cannot grow the worker's memory and every scrape without end.
const MAX_SERIES = 10_000;
const DROPPED = 'tc_worker_metrics_dropped_updates_total';

/**
 * Core's metric updates (counter deltas, gauge values, histogram observations) as Prometheus families,
 * at most `maxSeries` series: updates of further ones are dropped and counted.
 */
export function createWorkerMetricsStore({ maxSeries = MAX_SERIES }: { maxSeries?: number } = {}) {
  const families = new Map<string, Family>();
  let seriesCount = 0;
  let dropped = 0;
  function family(metricName: string, kind: Kind, help: string): Family {
    const key = name(metricName);
    let found = families.get(key);
    if (!found) {
      found = { kind, help, series: new Map() };
      families.set(key, found);
    }
    return found;
  }
  return {
    record(updates: Iterable<BufferedMetricUpdate>): void {
      for (const { metric, value, attributes } of updates) {
        // An up-down counter may fall: to Prometheus it is a gauge, kept as the sum of its deltas.
        const kind: Kind = metric.kind === 'up-down-counter' ? 'gauge' : metric.kind;
        const { series: all } = family(metric.name, kind, metric.description ?? '');
        const pairs = labelPairs(attributes);
        const key = pairs.join(',');
        const current = all.get(key)?.value;
        if (current === undefined) {
          if (seriesCount >= maxSeries) {
            dropped += 1;
            continue;
          }
          seriesCount += 1;
        }
        if (metric.kind === 'histogram') {
          const histogram = (current as Histogram | undefined) ?? { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
          BUCKETS.forEach((bound, index) => {
            if (value <= bound) histogram.buckets[index]! += 1;
          });
          histogram.sum += value;
          histogram.count += 1;
          all.set(key, { pairs, value: histogram });
        } else {
          // A gauge's update is its value; a counter's is a delta.
          all.set(key, { pairs, value: metric.kind === 'gauge' ? value : ((current as number | undefined) ?? 0) + value });
        }
      }
    },
    /** The Prometheus text exposition format (0.0.4). */
    render(): string {
      const lines: string[] = [];
      for (const [metric, { kind, help, series }] of [...families].sort(([a], [b]) => a.localeCompare(b))) {
        if (help) lines.push(`# HELP ${metric} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
        lines.push(`# TYPE ${metric} ${kind}`);
        for (const { pairs, value } of series.values()) {
          if (typeof value === 'number') {
            lines.push(`${metric}${braced(pairs)} ${value}`);
            continue;
          }
          // Prometheus buckets are cumulative: each counts every observation at or below its bound.
          BUCKETS.forEach((bound, index) => lines.push(`${metric}_bucket${braced([...pairs, `le="${bound}"`])} ${value.buckets[index]}`));
          lines.push(`${metric}_bucket${braced([...pairs, 'le="+Inf"'])} ${value.count}`);
          lines.push(`${metric}_sum${braced(pairs)} ${value.sum}`, `${metric}_count${braced(pairs)} ${value.count}`);
        }
      }
      lines.push(`# HELP ${DROPPED} Updates of series past the first ${maxSeries}, not kept`, `# TYPE ${DROPPED} counter`, `${DROPPED} ${dropped}`);
      return `${lines.join('\n')}\n`;
    },
  };
}

/**
 * Installs the SDK's runtime with Core's metrics buffered into this process (call it before any
 * connection is made) and returns what renders them, draining the buffer first.
 */
export function installBufferedWorkerMetrics(): () => string {
  const buffer = new MetricsBuffer({ maxBufferSize: 100_000 });
  Runtime.install({ telemetryOptions: { metrics: { buffer } } });
  const store = createWorkerMetricsStore();
  const drain = () => store.record(buffer.retrieveUpdates());
  // Drained between scrapes too: Core drops what no longer fits in the buffer. A failure here (the
  // runtime shutting down) must not end the process; a scrape that meets it answers 500.
  setInterval(() => {
    try {
      drain();
    } catch {
      // the next scrape reports it
    }
  }, 1_000).unref();
  return () => {
    drain();
    return store.render();
  };
}

/**
 * Serves GET /metrics on host:port to `Authorization: Bearer <token>` only (401 otherwise, before
 * anything is collected), draining `collect` first; every other path is 404.
 */
export function serveWorkerMetrics(options: { host: string; port: number; token: string; collect: () => string }): Promise<Server> {
  const presentsToken = bearerTokenCheck(options.token);
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://worker').pathname;
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    } else if (!presentsToken(request.headers.authorization)) {
      response.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="metrics"' }).end('unauthenticated\n');
    } else {
      let text: string;
      try {
        text = options.collect();
      } catch {
        // Thrown from the SDK's buffer while the runtime shuts down: Prometheus sees a failed scrape, the worker lives on.
        response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve(server));
  });
}
