import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import type { IssuedCert } from '../../dev/cluster/pki.js';

// The HTTP/2 connection preface and an empty SETTINGS frame: what a gRPC client sends first.
const PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);

/**
 * Whether a Temporal gRPC port takes a TLS client presenting `cert`: `accepted` once the server
 * speaks HTTP/2 back, `refused` on a TLS alert or hang-up. Under TLS 1.3 the server judges the
 * client's certificate after the client's side of the handshake is done, so its verdict is
 * whatever comes next. Only the server's view of the client is probed: the client trusts any server.
 */
export function mtlsAnswer(port: number, cert: IssuedCert): Promise<'accepted' | 'refused' | 'silent'> {
  return new Promise((resolve) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      cert: readFileSync(cert.certFile),
      key: readFileSync(cert.keyFile),
      ALPNProtocols: ['h2'],
      rejectUnauthorized: false,
    }, () => socket.write(PREFACE));
    const done = (answer: 'accepted' | 'refused' | 'silent') => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(5_000, () => done('silent'));
    socket.once('data', () => done('accepted'));
    socket.once('error', () => done('refused'));
    socket.once('close', () => done('refused'));
  });
}
