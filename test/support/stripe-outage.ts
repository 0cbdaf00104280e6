import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A Stripe the test can take down: an HTTP proxy in front of the Stripe fake whose outage is a
 * connection reset (what a network fault looks like to the SDK), for every request or only for
 * those whose path matches. `onRequest` sees each request before it is passed on (or refused).
 */
export async function stripeWithOutages(targetUrl: string) {
  const target = new URL(targetUrl);
  let outage: RegExp | undefined;
  const seen: Array<{ method: string; path: string; refused: boolean }> = [];
  let onRequest: ((req: { method: string; path: string }) => Promise<void> | void) | undefined;

  function forward(req: IncomingMessage, res: ServerResponse) {
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  const server = createServer((req, res) => {
    const entry = { method: req.method ?? 'GET', path: req.url ?? '/' };
    void (async () => {
      await onRequest?.(entry);
      const refused = outage !== undefined && outage.test(entry.path);
      seen.push({ ...entry, refused });
      if (refused) req.socket.destroy();
      else forward(req, res);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Every request, in arrival order, and whether the outage refused it. */
    seen,
    /** Refuses every request whose path matches (all of them by default) until `heal`. */
    down(paths: RegExp = /./) {
      outage = paths;
    },
    heal() {
      outage = undefined;
    },
    set onRequest(hook: typeof onRequest) {
      onRequest = hook;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
export type StripeWithOutages = Awaited<ReturnType<typeof stripeWithOutages>>;
