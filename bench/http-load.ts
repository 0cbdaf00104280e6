import autocannon from 'autocannon';
import * as hdr from 'hdr-histogram-js';
import { cpuSecondsOf, selfCpuSeconds, startChild, stopChild } from './bench-stack.js';

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

/**
 * Clients named as a trusted proxy names them (the API trusts loopback: TRUSTED_PROXIES in
 * benchEnv): `count` addresses 10.x.y.z numbered from `first` (0 by default), one per request in
 * turn, starting at a random one of them.
 */
export interface ClientIps {
  count: number;
  first?: number;
}

/** `perRequest` headers for `ClientIps`: an `X-Forwarded-For` per request, cycling through the addresses. */
export function clientIpHeaders(ips: ClientIps): () => Record<string, string> {
  const first = ips.first ?? 0;
  let next = Math.floor(Math.random() * ips.count);
  return () => {
    const n = first + next;
    next = (next + 1) % ips.count;
    return { 'x-forwarded-for': `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` };
  };
}

/** `httpLoad`'s options as they cross to another process: the clients as `ClientIps` rather than a function. */
export type LoadProcessOptions = Omit<Parameters<typeof httpLoad>[0], 'perRequest'> & { clientIps?: ClientIps };

/**
 * A load generator in a process of its own (bench/http-load-process.ts), so a second load (a flood)
 * runs beside a measured one without sharing its event loop. `start` resolves once the run has
 * begun; its `done`, with the run's result.
 */
export async function startLoadProcess() {
  const { child, ready } = await startChild<{ pid: number }>('bench/http-load-process.ts', process.env, { ipc: true });
  return {
    pid: ready.pid,
    start(options: LoadProcessOptions): Promise<{ done: Promise<LoadResult> }> {
      return new Promise((resolveStarted, rejectStarted) => {
        let resolveDone!: (result: LoadResult) => void;
        let rejectDone!: (error: Error) => void;
        const done = new Promise<LoadResult>((resolve, reject) => {
          resolveDone = resolve;
          rejectDone = reject;
        });
        // A process gone before the run started rejects both; the caller then holds only the first.
        done.catch(() => undefined);
        const finish = () => {
          child.off('message', onMessage);
          child.off('exit', onExit);
        };
        const onExit = (code: number | null) => {
          finish();
          const error = new Error(`bench/http-load-process.ts exited with ${code} during a run`);
          rejectStarted(error);
          rejectDone(error);
        };
        const onMessage = (message: { started?: true; result?: LoadResult; error?: string }) => {
          if (message.started) return resolveStarted({ done });
          finish();
          if (message.result) resolveDone(message.result);
          else rejectDone(new Error(`load process: ${message.error}`));
        };
        child.on('message', onMessage);
        child.once('exit', onExit);
        child.send({ options });
      });
    },
    stop: () => stopChild(child),
  };
}
