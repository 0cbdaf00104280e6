import type { AddressInfo } from 'node:net';
import type { BufferedMetricUpdate } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerMetricsStore, serveWorkerMetrics } from './worker-metrics.js';

type Kind = BufferedMetricUpdate['metric']['kind'];
const update = (name: string, kind: Kind, value: number, attributes: Record<string, string | number | boolean> = {}) =>
  ({ metric: { name, kind, description: `${name} help`, unit: '', valueType: 'int' }, value, attributes }) as unknown as BufferedMetricUpdate;

describe('the worker metrics store', () => {
  it('adds counter deltas, keeps the latest gauge, sums up-down deltas and buckets histogram observations, per label set', () => {
    const store = createWorkerMetricsStore();
    store.record([
      update('temporal_request', 'counter', 2, { operation: 'PollWorkflowTaskQueue', namespace: 'ns' }),
      update('temporal_request', 'counter', 3, { namespace: 'ns', operation: 'PollWorkflowTaskQueue' }),
      update('temporal_request', 'counter', 1, { namespace: 'ns', operation: 'RespondWorkflowTaskCompleted' }),
      update('temporal_worker_task_slots_available', 'gauge', 100, { worker_type: 'ActivityWorker' }),
      update('temporal_worker_task_slots_available', 'gauge', 98, { worker_type: 'ActivityWorker' }),
      update('temporal_sticky_cache_size', 'up-down-counter', 4),
      update('temporal_sticky_cache_size', 'up-down-counter', -1),
      update('temporal_request_latency', 'histogram', 7, { operation: 'Poll "x"\n' }),
      update('temporal_request_latency', 'histogram', 600, { operation: 'Poll "x"\n' }),
    ]);
    const text = store.render();
    expect(text).toContain('# TYPE temporal_request counter\n');
    expect(text).toContain('temporal_request{namespace="ns",operation="PollWorkflowTaskQueue"} 5\n');
    expect(text).toContain('temporal_request{namespace="ns",operation="RespondWorkflowTaskCompleted"} 1\n');
    expect(text).toContain('# TYPE temporal_worker_task_slots_available gauge\ntemporal_worker_task_slots_available{worker_type="ActivityWorker"} 98\n');
    expect(text).toContain('# TYPE temporal_sticky_cache_size gauge\ntemporal_sticky_cache_size 3\n');
    // Cumulative buckets, label values escaped.
    expect(text).toContain('temporal_request_latency_bucket{operation="Poll \\"x\\"\\n",le="5"} 0\n');
    expect(text).toContain('temporal_request_latency_bucket{operation="Poll \\"x\\"\\n",le="10"} 1\n');
    expect(text).toContain('temporal_request_latency_bucket{operation="Poll \\"x\\"\\n",le="1000"} 2\n');
    expect(text).toContain('temporal_request_latency_bucket{operation="Poll \\"x\\"\\n",le="+Inf"} 2\n');
    expect(text).toContain('temporal_request_latency_sum{operation="Poll \\"x\\"\\n"} 607\ntemporal_request_latency_count{operation="Poll \\"x\\"\\n"} 2\n');
  });

  it('keeps at most 10,000 series, drops the rest and counts what it dropped', () => {
    const store = createWorkerMetricsStore();
    store.record(Array.from({ length: 10_005 }, (_, index) => update('temporal_request', 'counter', 1, { operation: `op-${index}` })));
    // Series it already has still move.
    store.record([update('temporal_request', 'counter', 4, { operation: 'op-0' }), update('temporal_request', 'counter', 1, { operation: 'op-10004' })]);
    const text = store.render();
    expect(text.split('\n').filter((line) => line.startsWith('temporal_request{'))).toHaveLength(10_000);
    expect(text).toContain('temporal_request{operation="op-0"} 5\n');
    expect(text).not.toContain('op-10000"');
    expect(text).toContain('# TYPE tc_worker_metrics_dropped_updates_total counter\ntc_worker_metrics_dropped_updates_total 6\n');
  });
});

describe('the worker metrics endpoint, when collecting fails', () => {
  const TOKEN = 'worker-metrics-test-token-0123456789';
  it('answers 500 without the error, and goes on serving', async () => {
    let fail = true;
    const server = await serveWorkerMetrics({
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      collect: () => {
        if (fail) throw new Error('Runtime shutting down: secret detail');
        return 'temporal_request 1\n';
      },
    });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
      const failed = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(failed.status).toBe(500);
      expect(await failed.text()).not.toContain('secret detail');
      fail = false;
      expect(await (await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).text()).toBe('temporal_request 1\n');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('the worker metrics endpoint', () => {
  const TOKEN = 'worker-metrics-test-token-0123456789';
  let url: string;
  let collected = 0;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const server = await serveWorkerMetrics({
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      collect: () => {
        collected += 1;
        return 'temporal_request 1\n';
      },
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });
  afterAll(() => close());

  it('answers 401 with a Bearer challenge to anything but the token, before collecting', async () => {
    for (const authorization of [undefined, 'Bearer ', `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Basic ${Buffer.from(`prometheus:${TOKEN}`).toString('base64')}`]) {
      const response = await fetch(`${url}/metrics`, { headers: authorization === undefined ? {} : { authorization } });
      expect(response.status, authorization).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(await response.text()).not.toContain('temporal_');
    }
    expect(collected).toBe(0);
  });

  it('serves the Prometheus text to the token, and nothing on other paths', async () => {
    const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    expect(await response.text()).toBe('temporal_request 1\n');
    expect((await fetch(`${url}/`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
  });
});
