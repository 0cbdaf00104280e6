import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';

/** libpq's sslmode values, as a Postgres URL carries them (`?sslmode=verify-full`). */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** The sslmode a Postgres URL asks for, as written (undefined when it names none). */
export function sslModeOf(url: string): string | undefined {
  return new URL(url).searchParams.get('sslmode') ?? undefined;
}

/** The modes that encrypt. pg cannot fall back from TLS to plaintext, so `allow` and `prefer` (libpq's default) mean none. */
export function usesTls(mode: string | undefined): boolean {
  return mode === 'require' || mode === 'verify-ca' || mode === 'verify-full';
}

/**
 * pg's `ssl` option for a URL's sslmode (MikroORM reads host, user and database from the URL and
 * drops its query, so the mode is honoured here). With a CA, verify-full checks the chain and the host
 * name, verify-ca the chain only, and require, as in libpq, verifies too; require without one encrypts
 * without verifying. Production accepts verify-full only (infra/transport-policy.ts).
 */
export function postgresSsl(database: { url: string; caFile?: string }): false | ConnectionOptions {
  const mode = sslModeOf(database.url);
  if (!usesTls(mode)) return false;
  const ca = database.caFile ? readFileSync(database.caFile, 'utf8') : undefined;
  if (mode === 'require' && ca === undefined) return { rejectUnauthorized: false };
  const host = decodeURIComponent(new URL(database.url).hostname).replace(/^\[|\]$/g, '');
  return {
    ...(ca === undefined ? {} : { ca }),
    rejectUnauthorized: true,
    // SNI carries names only.
    ...(isIP(host) === 0 ? { servername: host } : {}),
    // Against the URL's host, always: for an IP address pg passes none, and Node would check "localhost".
    checkServerIdentity: mode === 'verify-full' ? (_name, cert) => checkServerIdentity(host, cert) : () => undefined,
  };
}
