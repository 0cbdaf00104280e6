import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { AccessTokenError, createAccessTokens } from './access-tokens.js';

const k1 = { kid: 'k1', secret: randomBytes(32) };
const k2 = { kid: 'k2', secret: randomBytes(32) };
const base = { issuer: 'https://api.travelconnect.test', audience: 'travelconnect-api' };
const tokens = createAccessTokens({ ...base, keys: [k1] });
const now = () => Math.floor(Date.now() / 1000);

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const header = (extra: object = {}) => ({ alg: 'HS256', kid: 'k1', typ: 'at+jwt', ...extra });
const claims = (extra: object = {}) => {
  const t = now();
  return { sub: 'u1', sid: 's1', role: 'user', iat: t, nbf: t, exp: t + 900, jti: 'j1', iss: base.issuer, aud: base.audience, ...extra };
};
/** A compact JWS signed by hand, so every header field and claim is ours to break. */
function forge(h: object, c: object, secret: Uint8Array = k1.secret, hash = 'sha256'): string {
  const input = `${b64(h)}.${b64(c)}`;
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}
const without = (object: Record<string, unknown>, key: string) => Object.fromEntries(Object.entries(object).filter(([k]) => k !== key));

async function reason(token: string): Promise<string> {
  const error: unknown = await tokens.verify(token).then(() => 'accepted', (e: unknown) => e);
  return error instanceof AccessTokenError ? error.reason : String(error);
}

describe('access tokens', () => {
  it('issues a token that verifies back to its subject', async () => {
    const { token, expiresAt } = await tokens.issue({ userId: 'u1', sessionId: 's1', role: 'support' });
    const [h, p] = token.split('.').slice(0, 2).map((s) => JSON.parse(Buffer.from(s, 'base64url').toString()) as Record<string, unknown>);
    expect(h).toEqual({ alg: 'HS256', kid: 'k1', typ: 'at+jwt' });
    expect(Object.keys(p!).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'role', 'sid', 'sub']);
    expect(p!.exp).toBe((p!.iat as number) + 900);
    expect(await tokens.verify(token)).toEqual({ userId: 'u1', sessionId: 's1', role: 'support', expiresAt });
  });

  it('accepts the hand-forged baseline (so each refusal below is about one change)', async () => {
    expect(await reason(forge(header(), claims()))).toBe('accepted');
    expect(await reason(forge(header(), claims({ exp: now() - 2 })))).toBe('accepted'); // within clock tolerance
  });

  it('refuses an expired token as expired', async () => {
    expect(await reason(forge(header(), claims({ exp: now() - 60 })))).toBe('expired');
    expect(await reason(forge(header(), claims({ exp: now() - 60 }), k2.secret))).toBe('invalid');
  });

  const refusals: Array<[string, () => string]> = [
    ['nbf in the future', () => forge(header(), claims({ nbf: now() + 60 }))],
    ['alg none, unsigned', () => `${b64(header({ alg: 'none' }))}.${b64(claims())}.`],
    ['alg none, with a signature', () => forge(header({ alg: 'none' }), claims())],
    ['HS512 with the right secret', () => forge(header({ alg: 'HS512' }), claims(), k1.secret, 'sha512')],
    ['HS384 with the right secret', () => forge(header({ alg: 'HS384' }), claims(), k1.secret, 'sha384')],
    ['a bad signature', () => forge(header(), claims(), k2.secret)],
    ['the wrong audience', () => forge(header(), claims({ aud: 'another-api' }))],
    ['the wrong issuer', () => forge(header(), claims({ iss: 'https://evil.test' }))],
    ['a missing kid', () => forge(without(header(), 'kid'), claims())],
    ['an unknown kid', () => forge(header({ kid: 'k9' }), claims())],
    ['a missing typ', () => forge(without(header(), 'typ'), claims())],
    ['the wrong typ', () => forge(header({ typ: 'JWT' }), claims())],
    ['a refresh-token typ', () => forge(header({ typ: 'rt+jwt' }), claims())],
    ...['sub', 'sid', 'role', 'exp', 'nbf', 'iat', 'jti'].map(
      (claim): [string, () => string] => [`a missing ${claim}`, () => forge(header(), without(claims(), claim))],
    ),
    ['an empty sid', () => forge(header(), claims({ sid: '' }))],
    ['a numeric sub', () => forge(header(), claims({ sub: 42 }))],
    ['an unknown role', () => forge(header(), claims({ role: 'root' }))],
    ['a role array', () => forge(header(), claims({ role: ['admin'] }))],
    ['garbage', () => 'not.a.token'],
    ['the empty string', () => ''],
  ];
  it.each(refusals)('refuses %s as invalid', async (_, make) => {
    expect(await reason(make())).toBe('invalid');
  });

  it.each(['RS256', 'ES256', 'PS256'] as const)('refuses %s, even with a matching kid', async (alg) => {
    const { privateKey } = await generateKeyPair(alg);
    const token = await new SignJWT(claims()).setProtectedHeader(header({ alg })).sign(privateKey);
    expect(await reason(token)).toBe('invalid');
  });

  it("refuses a second spelling of a valid signature (base64url's spare bits)", async () => {
    const { token } = await tokens.issue({ userId: 'u1', sessionId: 's1', role: 'user' });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(token.at(-1)!);
    expect(await reason(token.slice(0, -1) + alphabet[last ^ 1])).toBe('invalid');
  });

  it('verifies with every key in the ring and signs with the first (rotation)', async () => {
    const old = await createAccessTokens({ ...base, keys: [k1] }).issue({ userId: 'u1', sessionId: 's1', role: 'user' });
    const rotated = createAccessTokens({ ...base, keys: [k2, k1] });
    expect((await rotated.verify(old.token)).userId).toBe('u1');
    const fresh = await rotated.issue({ userId: 'u2', sessionId: 's2', role: 'admin' });
    expect(JSON.parse(Buffer.from(fresh.token.split('.')[0]!, 'base64url').toString())).toMatchObject({ kid: 'k2' });
    const retired = createAccessTokens({ ...base, keys: [k2] });
    expect((await retired.verify(fresh.token)).role).toBe('admin');
    await expect(retired.verify(old.token)).rejects.toMatchObject({ reason: 'invalid' });
  });

  it('refuses short secrets, duplicate kids and an empty ring at construction', () => {
    expect(() => createAccessTokens({ ...base, keys: [{ kid: 'k', secret: randomBytes(31) }] })).toThrow(/32 bytes/);
    expect(() => createAccessTokens({ ...base, keys: [k1, { ...k2, kid: 'k1' }] })).toThrow(/unique/);
    expect(() => createAccessTokens({ ...base, keys: [] })).toThrow(/at least one key/);
  });

  describe('tampering', () => {
    let token = '';
    beforeAll(async () => {
      ({ token } = await tokens.issue({ userId: 'u1', sessionId: 's1', role: 'user' }));
    });

    it('any changed character of header, payload or signature makes verify throw', async () => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const positions = [...token].flatMap((char, i) => (char === '.' ? [] : [i]));
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...positions), fc.constantFrom(...alphabet), async (i, char) => {
          fc.pre(token[i] !== char);
          const tampered = token.slice(0, i) + char + token.slice(i + 1);
          await expect(tokens.verify(tampered)).rejects.toBeInstanceOf(AccessTokenError);
        }),
        { numRuns: 300 },
      );
    });
  });
});
