import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function recorder() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { lines, log: createLogger({ logLevel: 'info', nodeEnv: 'test' }, 'test', destination) };
}

const SECRET = 'pi_3Q1abcDEF_secret_Zx9Yw8Vu7';

describe('createLogger', () => {
  it('redacts a client secret, a password and a passport number however deep they sit', () => {
    const { lines, log } = recorder();
    log.info({ a: { b: { c: { d: { clientSecret: SECRET, password: 'hunter2 hunter2', passportNumber: 'X1234567' } } } } }, 'nested');
    log.info({ list: [{ payment: { nextAction: { type: 'use_stripe_sdk', client_secret: SECRET } } }] }, 'in an array');
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).not.toContain(SECRET);
      expect(line).not.toContain('hunter2');
      expect(line).not.toContain('X1234567');
    }
    // The rest of the entry is kept, so the log still says what happened.
    expect(JSON.parse(lines[1]!).list[0].payment.nextAction.type).toBe('use_stripe_sdk');
  });

  it('takes a client secret out of any text, the message included', () => {
    const { lines, log } = recorder();
    log.info({ note: `the browser sent ${SECRET} back` }, `confirming with ${SECRET}`);
    log.warn(`an error quoting ${SECRET}`);
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toContain('_secret_Zx9Yw8Vu7');
    expect(JSON.parse(lines[0]!).msg).toContain('confirming with');
  });

  it('leaves ordinary values alone', () => {
    const { lines, log } = recorder();
    log.info({ bookingId: 'b-1', paymentIntentId: 'pi_3Q1abcDEF', count: 3 }, 'ordinary');
    expect(JSON.parse(lines[0]!)).toMatchObject({ bookingId: 'b-1', paymentIntentId: 'pi_3Q1abcDEF', count: 3, msg: 'ordinary' });
  });
});
