import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { run } from '../process.js';

/** A certificate and its key, as PEM files. */
export interface IssuedCert {
  certFile: string;
  keyFile: string;
}

/** A local certificate authority (openssl) and the certificates it issued, under one directory. */
export interface LocalPki {
  dir: string;
  caFile: string;
  /**
   * Issues (or reuses) `name`'s certificate for exactly `names` (host names, or IP addresses written
   * as such), good for TLS servers and clients alike (mTLS). Files are `<name>.pem` and `<name>.key`,
   * the key 0600. Nothing is added: a client that reaches the server by an address the certificate
   * does not list must refuse it.
   */
  issue(name: string, names: readonly string[]): Promise<IssuedCert>;
}

async function openssl(args: string[]): Promise<void> {
  const result = await run('openssl', args);
  if (result.code !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.trim()}`);
}

// P-256 keys: every party here speaks them (Go, Postgres, Redis, rustls in the Temporal SDK).
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/**
 * The CA in `dir` (made on first use, reused after): nothing in it is a secret of anything but
 * this machine, and `dir` lives under .data/ (never committed) or a test's temporary directory.
 */
export async function localPki(dir: string): Promise<LocalPki> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caFile = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  if (!existsSync(caFile) || !existsSync(caKey)) {
    await openssl([
      'req', '-x509', ...NEW_KEY, '-keyout', caKey, '-out', caFile, '-days', '3650', '-subj', '/CN=TravelConnect local CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  }
  return {
    dir,
    caFile,
    async issue(name, names) {
      const certFile = join(dir, `${name}.pem`);
      const keyFile = join(dir, `${name}.key`);
      if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile };
      const csr = join(dir, `${name}.csr`);
      const ext = join(dir, `${name}.ext`);
      await openssl(['req', ...NEW_KEY, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${name}`]);
      const alt = names.map((n) => (isIP(n) === 0 ? `DNS:${n}` : `IP:${n}`)).join(',');
      writeFileSync(ext, [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth,clientAuth',
        `subjectAltName=${alt}`,
      ].join('\n'));
      await openssl(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', certFile, '-days', '825', '-extfile', ext]);
      await run('chmod', ['600', keyFile]);
      return { certFile, keyFile };
    },
  };
}
