import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One TCP connection to the API, for requests no HTTP client will send as written: a malformed
 * Content-Length, a body that keeps coming after the answer, several requests on one socket.
 * It reads while it writes, so an early answer is seen even when the body is never finished.
 */
export class RawConnection {
  private buffer = Buffer.alloc(0);
  private wake: () => void = () => {};
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (data: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, data]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    // A server may reset a connection whose body it refused; what it answered first is what counts.
    socket.on('error', () => {});
  }

  static async open(baseUrl: string): Promise<RawConnection> {
    const { hostname, port } = new URL(baseUrl);
    const socket = connect(Number(port), hostname);
    await once(socket, 'connect');
    return new RawConnection(socket);
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private answered(): boolean {
    return this.buffer.includes('\r\n\r\n');
  }

  /** Writes the head, then the body chunks; stops early once the server has answered unless `complete`. */
  async send(head: string, chunks: Iterable<Uint8Array | string> = [], options: { complete?: boolean } = {}): Promise<void> {
    const write = async (data: Uint8Array | string) => {
      if (this.socket.write(data)) return;
      await Promise.race([once(this.socket, 'drain'), this.changed(), once(this.socket, 'close')]);
    };
    await write(head);
    for (const chunk of chunks) {
      if (this.closed || (!options.complete && this.answered())) return;
      await write(chunk);
    }
  }

  /** The next complete response; fails if none comes within `timeoutMs` (the server hung). */
  async response(timeoutMs = 5_000): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = this.parse();
      if (parsed) return parsed;
      if (this.closed) throw new Error(`connection closed without a complete answer: ${JSON.stringify(this.buffer.toString('latin1').slice(0, 200))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no answer within ${timeoutMs} ms`);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.changed(), new Promise((resolve) => (timer = setTimeout(resolve, left)))]);
      clearTimeout(timer);
    }
  }

  private parse(): RawResponse | undefined {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const [statusLine, ...lines] = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
    const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
    const length = headers['content-length'];
    // Without a length the body runs to the end of the connection (Node's own 400s have none).
    const bodyEnd = length !== undefined ? end + 4 + Number(length) : this.closed ? this.buffer.length : -1;
    if (bodyEnd < 0 || this.buffer.length < bodyEnd) return undefined;
    const response = { status: Number(statusLine!.split(' ')[1]), headers, body: this.buffer.subarray(end + 4, bodyEnd).toString('utf8') };
    this.buffer = this.buffer.subarray(bodyEnd);
    return response;
  }

  close() {
    this.socket.destroy();
  }
}

/** `size` bytes in HTTP/1.1 chunked framing, `chunkSize` at a time, with the closing chunk. */
export function* chunked(size: number, chunkSize = 64 * 1024, fill = 0x20): Generator<Buffer> {
  for (let sent = 0; sent < size; sent += chunkSize) {
    const length = Math.min(chunkSize, size - sent);
    yield Buffer.concat([Buffer.from(`${length.toString(16)}\r\n`), Buffer.alloc(length, fill), Buffer.from('\r\n')]);
  }
  yield Buffer.from('0\r\n\r\n');
}
