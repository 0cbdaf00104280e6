import { clientIpHeaders, httpLoad, type LoadProcessOptions } from './http-load.js';

/**
 * `httpLoad` in a process of its own (started by `startLoadProcess` in http-load.ts): prints one
 * JSON line when ready, then runs each `{ options }` it is sent, answering `{ started: true }` as the
 * run begins and `{ result }` (or `{ error }`) when it ends. Exits when its parent goes.
 */
process.on('message', (message: { options: LoadProcessOptions }) => {
  const { clientIps, ...options } = message.options;
  process.send!({ started: true });
  httpLoad({ ...options, ...(clientIps ? { perRequest: clientIpHeaders(clientIps) } : {}) }).then(
    (result) => process.send!({ result }),
    (error: unknown) => process.send!({ error: String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.stdout.write(`${JSON.stringify({ pid: process.pid })}\n`);
