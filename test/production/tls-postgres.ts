import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, tail, waitUntilReady, portAnswers } from '../../dev/process.js';
import type { LocalPki } from '../../dev/cluster/pki.js';
import { killOnExit } from '../chaos/fault-targets.js';

/**
 * A Postgres cluster of the test's own (initdb into its directory, never the shared 5432) that
 * accepts TLS only: pg_hba.conf has `hostssl` lines and rejects every plaintext TCP connection.
 * The superuser is reached through the local socket alone (peer authentication), as an operator would.
 */
export interface TlsPostgres {
  port: number;
  /** Runs SQL as the superuser over the socket; throws with psql's error. */
  superuser(sql: string, database?: string): Promise<string>;
  /** postgresql://user:password@localhost:port/database?sslmode=verify-full: by a name its certificate carries */
  url(user: string, password: string, database: string): string;
  stop(): Promise<void>;
}

function binDir(): string {
  const versions = readdirSync('/usr/lib/postgresql').filter((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('postgres: no initdb under /usr/lib/postgresql; run bash dev/install.sh');
  return `/usr/lib/postgresql/${newest}/bin`;
}

const asPostgres = (command: string, args: string[], input?: string) =>
  process.getuid?.() === 0 ? run('runuser', ['-u', 'postgres', '--', command, ...args], { input, timeoutMs: 60_000 }) : run(command, args, { input, timeoutMs: 60_000 });

export async function startTlsPostgres(dir: string, pki: LocalPki, port: number): Promise<TlsPostgres> {
  const bin = binDir();
  const data = join(dir, 'pgdata');
  const logFile = join(dir, 'postgres.log');
  mkdirSync(data, { recursive: true, mode: 0o700 });
  // The server runs as the postgres OS user and reads its key only if it owns it, mode 0600.
  await run('chown', ['-R', 'postgres:postgres', dir]);
  const init = await asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth-local=peer', '--auth-host=reject', '-E', 'UTF8', '--no-sync']);
  if (init.code !== 0) throw new Error(`initdb failed: ${init.stderr.trim()}`);

  const server = await pki.issue('postgres', ['localhost', 'postgres.travelconnect.local']);
  for (const [from, to] of [[server.certFile, 'server.pem'], [server.keyFile, 'server.key'], [pki.caFile, 'ca.pem']] as const) {
    copyFileSync(from, join(data, to));
    chmodSync(join(data, to), 0o600);
  }
  await run('chown', ['postgres:postgres', join(data, 'server.pem'), join(data, 'server.key'), join(data, 'ca.pem')]);
  appendFileSync(join(data, 'postgresql.conf'), [
    '',
    "listen_addresses = '127.0.0.1'",
    `port = ${port}`,
    `unix_socket_directories = '${dir}'`,
    'ssl = on',
    "ssl_cert_file = 'server.pem'",
    "ssl_key_file = 'server.key'",
    "ssl_min_protocol_version = 'TLSv1.2'",
    "password_encryption = 'scram-sha-256'",
    'max_connections = 300',
    // Durability is not what this test is about, and fsync on a small VM is slow.
    'fsync = off',
    'synchronous_commit = off',
    '',
  ].join('\n'));
  writeFileSync(join(data, 'pg_hba.conf'), [
    'local   all all                 peer',
    'hostssl all all 127.0.0.1/32    scram-sha-256',
    'hostnossl all all 0.0.0.0/0     reject',
    'hostnossl all all ::/0          reject',
    '',
  ].join('\n'));
  await run('chown', ['postgres:postgres', join(data, 'pg_hba.conf')]);

  const pgCtl = join(bin, 'pg_ctl');
  const started = await asPostgres(pgCtl, ['-D', data, '-l', logFile, '-w', '-t', '60', 'start']);
  if (started.code !== 0) throw new Error(`postgres (TLS) did not start: ${started.stderr.trim()}\n${tail(logFile)}`);
  const stopNow = () => {
    const args = ['-D', data, '-m', 'immediate', 'stop'];
    spawnSync(process.getuid?.() === 0 ? 'runuser' : pgCtl, process.getuid?.() === 0 ? ['-u', 'postgres', '--', pgCtl, ...args] : args);
  };
  const unregister = killOnExit(stopNow);
  await waitUntilReady('postgres (TLS)', () => portAnswers('127.0.0.1', port), { timeoutMs: 30_000, logFile });

  return {
    port,
    async superuser(sql, database = 'postgres') {
      const result = await asPostgres('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port), '-d', database, '-f', '-'], sql);
      if (result.code !== 0) throw new Error(`psql: ${result.stderr.trim()}`);
      return result.stdout.trim();
    },
    url: (user, password, database) =>
      `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@localhost:${port}/${database}?sslmode=verify-full`,
    async stop() {
      unregister();
      await asPostgres(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']);
    },
  };
}
