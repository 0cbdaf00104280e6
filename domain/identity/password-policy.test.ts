import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkPassword, PASSWORD_MESSAGES } from './password-policy.js';

const common = new Set(['password123456', 'qwertyuiop123']);
const email = 'ann.lee+travel@example.com';
const check = (password: string, address = email) => checkPassword(password, address, common);
const KNOWN = new Set<string>(Object.values(PASSWORD_MESSAGES));

describe('password policy', () => {
  it('accepts a long, uncommon password', () => {
    expect(check('correct horse battery staple')).toEqual([]);
  });

  it('counts code points after NFKC, not UTF-16 units', () => {
    expect(check('😀'.repeat(11))).toEqual([PASSWORD_MESSAGES.tooShort]); // 22 units, 11 code points
    expect(check('😀'.repeat(12))).toEqual([]);
    // U+FB01 "ﬁ" becomes "fi" under NFKC: 6 ligatures reach 12 code points.
    expect(check('\uFB01'.repeat(6))).toEqual([]);
    expect(check('a'.repeat(128))).toEqual([]);
    expect(check('a'.repeat(129))).toEqual([PASSWORD_MESSAGES.tooLong]);
  });

  it('refuses a common password whatever its case or compatibility form', () => {
    expect(check('Password123456')).toEqual([PASSWORD_MESSAGES.common]);
    expect(check('ＰＡＳＳＷＯＲＤ１２３４５６')).toEqual([PASSWORD_MESSAGES.common]); // full-width
  });

  it("refuses the email's local part without its +tag, ignoring case", () => {
    expect(check('my-ANN.LEE-secret-1')).toEqual([PASSWORD_MESSAGES.containsEmail]);
    expect(check('my-travel-secret-99')).toEqual([]);
  });

  it('ignores local parts shorter than 3 characters', () => {
    expect(check('xx-long-enough-pw', 'xx@example.com')).toEqual([]);
    expect(check('abc-long-enough-pw', 'abc@example.com')).toEqual([PASSWORD_MESSAGES.containsEmail]);
  });

  it('reports every problem at once', () => {
    expect(checkPassword('ann', 'ann@example.com', new Set(['ann']))).toEqual([
      PASSWORD_MESSAGES.tooShort,
      PASSWORD_MESSAGES.common,
      PASSWORD_MESSAGES.containsEmail,
    ]);
  });

  it('refuses any password shorter than 12 code points', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 11 }), fc.emailAddress(), (password, address) => {
        fc.pre([...password.normalize('NFKC')].length < 12);
        expect(checkPassword(password, address, common)).toContain(PASSWORD_MESSAGES.tooShort);
      }),
    );
  });

  it('answers only with fixed messages, never with the password', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.emailAddress(), (body, address) => {
        const password = `«${body}»`; // marker characters no message uses
        const answer = checkPassword(password, address, new Set([password.toLowerCase()]));
        expect(answer.every((message) => KNOWN.has(message))).toBe(true);
        expect(answer.join('\n')).not.toContain(password);
      }),
    );
  });
});
