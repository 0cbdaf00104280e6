import { createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * An SMTP server that refuses every recipient and names the address in its refusal, as real
 * servers do ("550 5.1.1 <ada@…>: user unknown"): mail errors then carry PII in their text.
 */
export async function startRejectingSmtp() {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setEncoding('utf8');
    socket.write('220 reject.test ESMTP\r\n');
    let buffered = '';
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\r\n'); end >= 0; end = buffered.indexOf('\r\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250-reject.test\r\n250 8BITMIME\r\n');
        else if (verb === 'RCPT') socket.write(`550 5.1.1 ${line.replace(/^RCPT TO:\s*/i, '')}: Recipient address rejected: User unknown\r\n`);
        else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 OK\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
