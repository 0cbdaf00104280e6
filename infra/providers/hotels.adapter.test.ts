import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BookingFailure } from '../../domain/errors.js';
import { createStayBridgeProvider } from './hotels.adapter.js';
import { ProviderUnavailableError } from './provider-http.js';

// A supplier whose refusals quote the guest back in free text, as real ones do.
let fault = { status: 422, body: {} as unknown };
let server: Server;
let baseUrl: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    res.writeHead(fault.status, { 'content-type': 'application/json' }).end(JSON.stringify(fault.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => {
  server.closeAllConnections();
  server.close(resolve);
}));

async function confirmError(): Promise<unknown> {
  const hotels = createStayBridgeProvider({ baseUrl, timeoutMs: 2000 });
  return hotels.confirm('res-1', [{ givenName: 'Ada', familyName: 'Lovelace' }] as never).then(() => undefined, (error: unknown) => error);
}

describe('StayBridge refusals', () => {
  it("keep the supplier's free text out of the booking failure, which only names the code", async () => {
    fault = { status: 422, body: { fault: { code: 'COMMIT_REJECTED', message: 'guest Ada Lovelace is on a watch list' } } };
    const error = await confirmError();
    expect(error).toBeInstanceOf(BookingFailure);
    expect((error as BookingFailure).code).toBe('PROVIDER_REJECTED');
    expect((error as BookingFailure).message).not.toMatch(/Lovelace|watch list/);
  });

  it('keep an unknown fault code that is really free text out of the error', async () => {
    fault = { status: 400, body: { fault: { code: 'Ada Lovelace: name not accepted' } } };
    const error = await confirmError();
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).not.toMatch(/Lovelace/);
  });
});
