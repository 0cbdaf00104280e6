import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPassword } from '../../domain/identity/password-policy.js';
import { loadCommonPasswords } from './common-passwords.js';

describe('common passwords', () => {
  const common = loadCommonPasswords();

  it('loads the vendored list: at least 10,000 lowercase entries, header skipped', () => {
    expect(common.size).toBeGreaterThanOrEqual(10_000);
    const odd = [...common].filter((entry) => entry !== entry.toLowerCase() || entry.startsWith('#') || /\s/.test(entry));
    expect(odd).toEqual([]);
  });

  it('holds the usual suspects, long ones included', () => {
    for (const entry of ['123456', 'password', 'password123', 'qwerty123456', '1qaz2wsx3edc']) {
      expect(common.has(entry)).toBe(true);
    }
  });

  it('makes the policy refuse a 12-character common password', () => {
    expect(checkPassword('Qwerty123456', 'ann@example.com', common)).not.toEqual([]);
  });

  it('skips comment and blank lines, tolerates CRLF and lowercases', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'common-')), 'list.txt');
    writeFileSync(file, '# source: test, licence: none\r\nHunter2\r\n\r\nhunter2\n#not-a-password\n');
    expect([...loadCommonPasswords(file)]).toEqual(['hunter2']);
  });
});
