import type { Hono } from 'hono';

/** Calls an in-process Hono app with an optional JSON body and reads its JSON answer loosely. */
export function jsonCaller(app: Pick<Hono, 'request'>) {
  return async (method: string, path: string, body?: unknown) => {
    const response = await app.request(path, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any -- wire JSON read loosely
  };
}
