import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, TLSSocket, type Server as TlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localPki, type IssuedCert } from '../../dev/cluster/pki.js';
import { createRequire } from 'node:module';
import { postgresSsl } from '../../infra/postgres-ssl.js';
import { createRedis } from '../../infra/redis.js';
import { createMailTransport } from '../../infra/mail/mail-transport.js';

// Issue 14: the TLS settings are not only accepted but verify what they claim to. Real handshakes
// against servers on loopback with certificates from a local CA (openssl): the right CA and name
// complete it, another CA or (for verify-full) another name do not.

// The pg that @mikro-orm/postgresql loads (not a dependency of ours, so no types of its own here).
type PgClient = { connect(): Promise<void>; end(): Promise<void>; on(event: 'error', listener: () => void): void };
const require = createRequire(import.meta.url);
const pg = createRequire(require.resolve('@mikro-orm/postgresql'))('pg') as { Client: new (options: object) => PgClient };

let caFile: string;
let otherCaFile: string;
let server: IssuedCert;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tc-tls-'));
  const pki = await localPki(join(dir, 'pki'));
  caFile = pki.caFile;
  otherCaFile = (await localPki(join(dir, 'other'))).caFile;
  // Valid for db.test and 127.0.0.1 only: 127.0.0.2 reaches the same loopback server under another name.
  server = await pki.issue('store', ['db.test', '127.0.0.1']);
});

/** Resolves true once the server side completed a handshake, false on the client's refusal. */
type Handshakes = { completed: number };

/**
 * A TLS server on 127.0.0.1 with the store's leaf that counts completed handshakes and hangs up,
 * listening for the tests of the describe block it is called in. `port()` once it listens.
 */
function handshakeCounter() {
  let listener: TlsServer;
  let listening = 0;
  const seen: Handshakes = { completed: 0 };
  beforeAll(async () => {
    listener = createTlsServer({ cert: readFileSync(server.certFile), key: readFileSync(server.keyFile) }, (socket) => {
      seen.completed += 1;
      socket.destroy();
    });
    listener.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    listening = (listener.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));
  return { seen, port: () => listening };
}

// pg's client with the `ssl` option createOrm hands MikroORM, which passes it to pg unchanged (a failed
// MikroORM.init leaves its pool's timers behind, so the handshakes go through pg itself here).
describe('Postgres (pg) honours sslmode', () => {
  let listener: Server;
  let port: number;
  const seen: Handshakes = { completed: 0 };

  beforeAll(async () => {
    // Just enough of Postgres: answer the SSLRequest with 'S', then TLS, then hang up.
    listener = createServer((socket: Socket) => {
      socket.once('data', () => {
        socket.write('S');
        const tls = new TLSSocket(socket, { isServer: true, cert: readFileSync(server.certFile), key: readFileSync(server.keyFile) });
        tls.on('secure', () => {
          seen.completed += 1;
          tls.destroy();
        });
        tls.on('error', () => tls.destroy());
      });
      socket.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => listener.listen(0, '0.0.0.0', resolve));
    port = (listener.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

  async function connect(host: string, sslmode: string, ca: string): Promise<{ handshake: boolean; error: string }> {
    const before = seen.completed;
    const url = `postgresql://app:pw@${host}:${port}/tc?sslmode=${sslmode}`;
    const client = new pg.Client({ host, port, user: 'app', password: 'pw', database: 'tc', ssl: postgresSsl({ url, caFile: ca }) });
    client.on('error', () => {});
    const error = await client.connect().then(() => 'connected', (e: unknown) => `${(e as { code?: string }).code ?? ''} ${(e as Error).message}`);
    await client.end().catch(() => {});
    return { handshake: seen.completed > before, error };
  }

  it('verify-full: the right CA and host name complete the handshake', async () => {
    const ok = await connect('127.0.0.1', 'verify-full', caFile);
    expect(ok.handshake, ok.error).toBe(true);
  });

  it('verify-full: another CA, or a name the certificate does not carry, is refused before anything is sent', async () => {
    const otherCa = await connect('127.0.0.1', 'verify-full', otherCaFile);
    expect(otherCa.handshake).toBe(false);
    expect(otherCa.error).toMatch(/certificate|UNABLE_TO_VERIFY|SELF_SIGNED/i);
    const otherName = await connect('127.0.0.2', 'verify-full', caFile);
    expect(otherName.handshake).toBe(false);
    expect(otherName.error).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID|does not match|not in the cert/i);
  });

  it('verify-ca: checks the chain, not the name', async () => {
    expect((await connect('127.0.0.2', 'verify-ca', caFile)).handshake).toBe(true);
    expect((await connect('127.0.0.2', 'verify-ca', otherCaFile)).handshake).toBe(false);
  });
});

describe('Redis (ioredis) over rediss: with REDIS_TLS_CA_FILE', () => {
  const { seen, port } = handshakeCounter();

  async function connect(ca: string): Promise<{ handshake: boolean; error: string }> {
    const before = seen.completed;
    const errors: string[] = [];
    const client = createRedis({ url: `rediss://app:pw@127.0.0.1:${port()}/0`, keyPrefix: 'tc:', caFile: ca }, (error) => {
      errors.push(`${(error as { code?: string }).code ?? ''} ${error.message}`);
    });
    const deadline = Date.now() + 5_000;
    while (seen.completed === before && errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    client.disconnect();
    return { handshake: seen.completed > before, error: errors.join('; ') };
  }

  it('completes the handshake with the CA that signed the server, and refuses another', async () => {
    expect((await connect(caFile)).handshake).toBe(true);
    const other = await connect(otherCaFile);
    expect(other.handshake).toBe(false);
    expect(other.error).toMatch(/certificate|UNABLE_TO_VERIFY|SELF_SIGNED/i);
  });
});

describe('SMTP (nodemailer) over smtps: with SMTP_TLS_CA_FILE', () => {
  const { seen, port } = handshakeCounter();

  async function send(host: string, ca: string): Promise<{ handshake: boolean; error: string }> {
    const before = seen.completed;
    const mail = createMailTransport({ transport: 'smtp', smtpUrl: `smtps://${host}:${port()}`, caFile: ca, from: 'TravelConnect <no-reply@travelconnect.test>' });
    // The server hangs up after the handshake, so even a trusted send fails; what counts is whether TLS completed.
    const error = await mail.send({ to: 'traveller@example.test', subject: 'hello', text: 'hello' }).then(() => '', (e: unknown) => `${(e as { code?: string }).code ?? ''} ${(e as Error).message}`);
    mail.close();
    return { handshake: seen.completed > before, error };
  }

  it('completes the handshake with the CA that signed the relay and its name, and refuses another CA or name', async () => {
    expect((await send('127.0.0.1', caFile)).handshake).toBe(true);
    const otherCa = await send('127.0.0.1', otherCaFile);
    expect(otherCa.handshake).toBe(false);
    expect(otherCa.error).toMatch(/certificate|UNABLE_TO_VERIFY|SELF_SIGNED/i);
    const otherName = await send('localhost', caFile);
    expect(otherName.handshake).toBe(false);
    expect(otherName.error).toMatch(/altnames|ERR_TLS_CERT_ALTNAME_INVALID/i);
  });
});
