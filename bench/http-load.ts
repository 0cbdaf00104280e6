import autocannon from 'autocannon';
import * as hdr from 'hdr-histogram-js';
import { cpuSecondsOf, selfCpuSeconds } from './bench-stack.js';

export interface LoadResult {
  rps: number;
  /** Milliseconds, from our own HDR histogram (autocannon reports no p95). */
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** autocannon's own p99 (coordinated-omission corrected when a rate is set), as a cross-check. */
  autocannonP99: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** CPU seconds spent during the run by the server process and by the load generator (this process). */
  cpuSeconds: { server: number; loadGenerator: number };
}

/**
 * One autocannon run. With `rate` it is open loop at that overall rate and every latency is
 * corrected for coordinated omission (a late answer back-fills the requests it held up, measured
 * from when they should have been sent); without, closed loop at full speed.
 */
export async function httpLoad(options: {
  url: string;
  serverPid: number;
  connections: number;
  durationSeconds?: number;
  amount?: number;
  rate?: number;
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  /** Per-request headers (a client IP, a token, an idempotency key). */
  perRequest?: () => Record<string, string>;
}): Promise<LoadResult> {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const expectedIntervalUs = options.rate ? Math.round((options.connections / options.rate) * 1e6) : 0;
  const serverBefore = cpuSecondsOf(options.serverPid);
  const selfBefore = selfCpuSeconds();
  const perRequest = options.perRequest;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        pipelining: 1,
        ...(options.amount ? { amount: options.amount } : { duration: options.durationSeconds ?? 5 }),
        ...(options.rate ? { overallRate: options.rate } : {}),
        requests: [
          {
            method: options.method ?? 'GET',
            ...(options.body ? { body: options.body } : {}),
            headers: options.headers ?? {},
            ...(perRequest ? { setupRequest: (request: autocannon.Request) => ({ ...request, headers: { ...request.headers, ...perRequest() } }) } : {}),
          },
        ],
      },
      (error, done) => (error ? reject(error as Error) : resolve(done)),
    );
    instance.on('response', (_client, _status, _bytes, responseTimeMs) => {
      const us = Math.max(1, Math.round(responseTimeMs * 1000));
      if (expectedIntervalUs > 0) histogram.recordValueWithExpectedInterval(us, expectedIntervalUs);
      else histogram.recordValue(us);
    });
  });
  const ms = (percentile: number) => histogram.getValueAtPercentile(percentile) / 1000;
  const out: LoadResult = {
    // Completed requests over the run's length (also right for a fixed `amount`, unlike the per-second average).
    rps: result.requests.total / result.duration,
    p50: ms(50),
    p95: ms(95),
    p99: ms(99),
    max: histogram.maxValue / 1000,
    autocannonP99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, count ?? 0])),
    cpuSeconds: { server: cpuSecondsOf(options.serverPid) - serverBefore, loadGenerator: selfCpuSeconds() - selfBefore },
  };
  histogram.destroy();
  return out;
}
