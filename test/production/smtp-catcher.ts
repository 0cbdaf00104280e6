import { readFileSync } from 'node:fs';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { IssuedCert } from '../../dev/cluster/pki.js';
import { eventually } from '../support/eventually.js';
import type { Mail } from '../support/http-account.js';

/**
 * An SMTP server over implicit TLS (smtps:) that keeps what it is sent: production refuses the
 * development mail sink, so the production-profile test reads its verification links here, after
 * the worker delivered them with nodemailer exactly as it would to a real relay.
 */
export interface SmtpCatcher {
  /** smtps://localhost:port (the worker trusts the test's CA through SMTP_TLS_CA_FILE). */
  url: string;
  /** The newest message to `to` whose subject matches, waiting for it. */
  mailTo(to: string, subject: RegExp, timeoutMs?: number): Promise<Mail>;
  stop(): Promise<void>;
}

function decodeBody(headers: Map<string, string>, body: string): string {
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

/** Headers (unfolded, lower-case names) and decoded body of a single-part message. */
function parseMessage(raw: string): { headers: Map<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  // Dot-stuffing: a line that began with "." was sent with another in front.
  const body = raw.slice(split + 4).replace(/\r\n\.\./g, '\r\n.');
  return { headers, text: decodeBody(headers, body) };
}

function session(socket: TLSSocket, deliver: (to: string[], raw: string) => void): void {
  let buffer = '';
  let recipients: string[] = [];
  let inData = false;
  const reply = (line: string) => socket.write(`${line}\r\n`);
  reply('220 smtp-catcher ESMTP');
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('latin1');
    for (;;) {
      if (inData) {
        const end = buffer.indexOf('\r\n.\r\n');
        if (end < 0) return;
        deliver(recipients, buffer.slice(0, end + 2));
        buffer = buffer.slice(end + 5);
        inData = false;
        recipients = [];
        reply('250 OK: queued');
        continue;
      }
      const newline = buffer.indexOf('\r\n');
      if (newline < 0) return;
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 2);
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'EHLO' || verb === 'HELO') reply('250 smtp-catcher');
      else if (verb === 'MAIL' || verb === 'RSET' || verb === 'NOOP') reply('250 OK');
      else if (verb === 'RCPT') {
        recipients.push(/<([^>]*)>/.exec(line)?.[1]?.toLowerCase() ?? '');
        reply('250 OK');
      } else if (verb === 'DATA') {
        inData = true;
        reply('354 End data with <CR><LF>.<CR><LF>');
      } else if (verb === 'QUIT') {
        reply('221 Bye');
        socket.end();
      } else reply('502 Command not implemented');
    }
  });
  socket.on('error', () => socket.destroy());
}

export async function startSmtpCatcher(cert: IssuedCert): Promise<SmtpCatcher> {
  const messages: Array<Mail & { at: number }> = [];
  const server: Server = createServer({ cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) }, (socket) =>
    session(socket, (to, raw) => {
      const { headers, text } = parseMessage(raw);
      const subject = headers.get('subject') ?? '';
      for (const recipient of to) {
        messages.push({ to: recipient, subject, text, links: text.match(/https?:\/\/\S+/g) ?? [], at: Date.now() });
      }
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `smtps://localhost:${port}`,
    async mailTo(to, subject, timeoutMs = 60_000) {
      const mine = () => messages.filter((m) => m.to === to.toLowerCase() && subject.test(m.subject));
      await eventually(async () => mine().length, (n) => n > 0, { timeoutMs, what: `mail "${subject.source}" to ${to}` });
      return mine().at(-1)!;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
