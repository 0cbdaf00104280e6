import { describe, expect, it } from 'vitest';
import { fakeKms } from '../../test/support/fake-kms.js';
import { createEncryptionCodec } from './encryption-codec.js';

const payload = (text: string) => ({ metadata: { encoding: new TextEncoder().encode('json/plain') }, data: new TextEncoder().encode(text) });
const text = (data: Uint8Array | null | undefined) => Buffer.from(data ?? []).toString();

describe('encryption codec', () => {
  it('encrypts payloads that another codec instance with KMS access can decrypt', async () => {
    const kms = fakeKms();
    const [sealed] = await (await createEncryptionCodec(kms.service)).encode([payload('{"bookingId":"b-1"}')]);
    expect(text(sealed!.data)).not.toContain('b-1');
    expect(text(sealed!.metadata!.encoding)).toBe('binary/encrypted');
    const [opened] = await (await createEncryptionCodec(kms.service)).decode([sealed!]);
    expect(text(opened!.data)).toBe('{"bookingId":"b-1"}');
    expect(text(opened!.metadata!.encoding)).toBe('json/plain');
  });

  it('passes unencrypted payloads through and refuses a tampered one', async () => {
    const codec = await createEncryptionCodec(fakeKms().service);
    const [plain] = await codec.decode([payload('x')]);
    expect(text(plain!.data)).toBe('x');
    const [sealed] = await codec.encode([payload('secret')]);
    const data = Buffer.from(sealed!.data!);
    data[20]! ^= 1;
    await expect(codec.decode([{ ...sealed!, data }])).rejects.toThrow();
  });

  it('refuses, in production, a payload no key of ours sealed, and still opens its own', async () => {
    const codec = await createEncryptionCodec(fakeKms().service, { refusePlaintext: true });
    await expect(codec.decode([payload('{"status":"requires_capture"}')])).rejects.toThrow(/payload 0: is not encrypted/);
    const [sealed] = await codec.encode([payload('ours')]);
    await expect(codec.decode([sealed!, payload('theirs')])).rejects.toThrow(/payload 1: is not encrypted/);
    expect(text((await codec.decode([sealed!]))[0]!.data)).toBe('ours');
  });
});
