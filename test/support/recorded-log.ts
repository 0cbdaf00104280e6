import { Writable } from 'node:stream';

/** Where a test's logger writes: every line the process logged, kept in memory for the test to read. */
export function recordedLog() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, sink };
}
