import { readFileSync } from 'node:fs';

const VENDORED_LIST = new URL('./common-passwords.txt', import.meta.url);

/**
 * The most common passwords (lowercase, from zxcvbn-ts, see the file's header)
 * for the password policy's blocklist check (OWASP ASVS 6.2.4). Reads the file
 * synchronously on every call: call it once at start-up and keep the set.
 */
export function loadCommonPasswords(file: URL | string = VENDORED_LIST): ReadonlySet<string> {
  const passwords = new Set<string>();
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line !== '' && !line.startsWith('#')) passwords.add(line.toLowerCase());
  }
  return passwords;
}
