import { connect } from 'node:tls';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnLogged, stopChild, waitUntilReady } from '../../dev/process.js';
import type { LocalPki } from '../../dev/cluster/pki.js';
import { killOnExit } from '../chaos/fault-targets.js';

/**
 * A Redis of the test's own that speaks TLS only (`--port 0` closes the plaintext port) and knows
 * one ACL user, the application's; the default user is off, so nothing gets in without AUTH.
 */
export interface TlsRedis {
  port: number;
  /** rediss://user:password@localhost:port/0: by a name its certificate carries */
  url: string;
  stop(): Promise<void>;
}

/** PING over TLS as the given user: what the server answers (`+PONG` once it serves commands). */
function pingOverTls(port: number, caFile: string, user: string, password: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: 'localhost', port, ca: readFileSync(caFile) }, () => {
      socket.write(`AUTH ${user} ${password}\r\nPING\r\n`);
    });
    let reply = '';
    const done = (value: string) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(1_000, () => done(reply));
    socket.on('data', (data) => {
      reply += data.toString();
      if (reply.includes('PONG') || reply.includes('-ERR') || reply.includes('-WRONGPASS')) done(reply);
    });
    socket.once('error', () => done(''));
  });
}

export async function startTlsRedis(dir: string, pki: LocalPki, port: number, user: string, password: string): Promise<TlsRedis> {
  const server = await pki.issue('redis', ['localhost', 'redis.travelconnect.local']);
  const logFile = join(dir, 'redis.log');
  // A config file (0600), not arguments: the password stays out of `ps`.
  const configFile = join(dir, 'redis.conf');
  writeFileSync(configFile, [
    'bind 127.0.0.1',
    'port 0',
    `tls-port ${port}`,
    `tls-cert-file ${server.certFile}`,
    `tls-key-file ${server.keyFile}`,
    `tls-ca-cert-file ${pki.caFile}`,
    // Clients prove who they are with AUTH (the URL's user and password), not certificates.
    'tls-auth-clients no',
    'user default off',
    `user ${user} on >${password} ~* &* +@all`,
    'save ""',
    'appendonly no',
    `dir ${dir}`,
    'daemonize no',
    '',
  ].join('\n'), { mode: 0o600 });
  const spawned = spawnLogged('redis-server', [configFile], { logFile, cwd: dir });
  const unregister = killOnExit(() => spawned.child.kill('SIGKILL'));
  await waitUntilReady('redis (TLS)', async () => (await pingOverTls(port, pki.caFile, user, password)).includes('+PONG'), {
    timeoutMs: 15_000, logFile, spawned,
  });
  return {
    port,
    url: `rediss://${encodeURIComponent(user)}:${encodeURIComponent(password)}@localhost:${port}/0`,
    async stop() {
      unregister();
      await stopChild(spawned.child, 5_000);
    },
  };
}
