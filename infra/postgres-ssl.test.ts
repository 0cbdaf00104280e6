import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { postgresSsl } from './postgres-ssl.js';
import { DUMMY_PEM } from '../test/support/production-env.js';

const caFile = join(mkdtempSync(join(tmpdir(), 'tc-pg-ca-')), 'ca.pem');
writeFileSync(caFile, DUMMY_PEM);

describe("pg's ssl option from the URL's sslmode", () => {
  it('verify-full: the CA, verification on, the host name checked (and sent as SNI)', () => {
    const ssl = postgresSsl({ url: 'postgresql://app:pw@db.internal:5432/tc?sslmode=verify-full', caFile });
    expect(ssl).toMatchObject({ ca: DUMMY_PEM, rejectUnauthorized: true, servername: 'db.internal' });
    // The name checked is the URL's host, whatever name TLS was handed (test/integration/connection-tls.test.ts does it for real).
    const cert = { subject: { CN: 'db.internal' }, subjectaltname: 'DNS:db.internal' } as never;
    expect(ssl && ssl.checkServerIdentity?.('localhost', cert)).toBeUndefined();
    expect(ssl && ssl.checkServerIdentity?.('db.internal', { subject: { CN: 'other' }, subjectaltname: 'DNS:other.internal' } as never)).toBeInstanceOf(Error);
  });

  it('verify-ca: the chain only; an IP address gets no SNI name', () => {
    const ssl = postgresSsl({ url: 'postgresql://app:pw@10.0.0.5:5432/tc?sslmode=verify-ca', caFile });
    expect(ssl).toMatchObject({ ca: DUMMY_PEM, rejectUnauthorized: true });
    expect(ssl && ssl.servername).toBeUndefined();
    expect(ssl && ssl.checkServerIdentity?.('db.internal', {} as never)).toBeUndefined();
  });

  it('require: encrypted, unverified without a CA (as libpq); disable, prefer or none: plaintext', () => {
    expect(postgresSsl({ url: 'postgresql://app:pw@db:5432/tc?sslmode=require' })).toEqual({ rejectUnauthorized: false });
    for (const query of ['', '?sslmode=disable', '?sslmode=prefer']) {
      expect(postgresSsl({ url: `postgresql://app:pw@db:5432/tc${query}` }), query).toBe(false);
    }
  });
});
