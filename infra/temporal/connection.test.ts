import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporalConnectionOptions } from './connection.js';

const dir = mkdtempSync(join(tmpdir(), 'tc-temporal-tls-'));
function pem(name: string, label: string): string {
  const path = join(dir, name);
  writeFileSync(path, `-----BEGIN ${label}-----\n${Buffer.from(name).toString('base64')}\n-----END ${label}-----\n`);
  return path;
}
const caFile = pem('ca.pem', 'CERTIFICATE');
const certFile = pem('client.pem', 'CERTIFICATE');
const keyFile = pem('client.key', 'PRIVATE KEY');
const base = { address: 'temporal.internal:7233', namespace: 'travelconnect-prod' };

describe('the Temporal connection options (client and worker alike)', () => {
  it('carry the server CA, the server name and the client certificate pair for mTLS', () => {
    const options = temporalConnectionOptions({ ...base, tls: { caFile, serverName: 'frontend.temporal.internal', certFile, keyFile } });
    expect(options.address).toBe('temporal.internal:7233');
    expect(options.tls?.serverNameOverride).toBe('frontend.temporal.internal');
    expect(Buffer.from(options.tls!.serverRootCACertificate!).toString()).toContain(Buffer.from('ca.pem').toString('base64'));
    expect(Buffer.from(options.tls!.clientCertPair!.crt).toString()).toContain(Buffer.from('client.pem').toString('base64'));
    expect(Buffer.from(options.tls!.clientCertPair!.key).toString()).toContain('BEGIN PRIVATE KEY');
    expect(options.apiKey).toBeUndefined();
  });

  it('carry Temporal Cloud\'s API key over TLS with the namespace header', () => {
    const options = temporalConnectionOptions({ ...base, tls: {}, apiKey: 'tc-cloud-key' });
    expect(options).toEqual({ address: base.address, tls: {}, apiKey: 'tc-cloud-key', metadata: { 'temporal-namespace': 'travelconnect-prod' } });
  });

  it('are the address alone without TLS (the local dev server)', () => {
    expect(temporalConnectionOptions({ ...base })).toEqual({ address: base.address });
  });
});
