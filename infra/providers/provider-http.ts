import { inClientSpan } from '../telemetry/client-span.js';

/** Transient provider trouble (timeouts, 5xx, 429): thrown plainly so Temporal retries it. */
export class ProviderUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderUnavailableError';
  }
}

export type ProviderCall = <T>(method: string, path: string, body?: unknown, signal?: AbortSignal) => Promise<{ status: number; data: T }>;

/**
 * JSON over HTTP to one provider, each call held to the timeout (and to the caller's signal).
 * Unreachable, 5xx and 429 throw ProviderUnavailableError; any other status is the adapter's to read.
 */
export function providerCall(options: { name: string; baseUrl: string; timeoutMs: number }): ProviderCall {
  // Paths are appended, not resolved: a base URL may carry a prefix (".../hotels").
  const base = options.baseUrl.replace(/\/+$/, '');
  return async <T>(method: string, path: string, body?: unknown, signal?: AbortSignal) => {
    const what = `${options.name} ${method} ${path.split('?')[0]}`;
    const timeout = AbortSignal.timeout(options.timeoutMs);
    let response: Response;
    try {
      const url = new URL(`${base}${path}`);
      response = await inClientSpan(
        { service: options.name, method, url },
        () => fetch(url, {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        }),
        (answer) => answer.status,
      );
    } catch (error) {
      throw new ProviderUnavailableError(`${what} failed: ${(error as Error).name}`);
    }
    if (response.status >= 500 || response.status === 429) {
      await response.body?.cancel();
      throw new ProviderUnavailableError(`${what} answered ${response.status}`);
    }
    return { status: response.status, data: (await response.json()) as T };
  };
}
