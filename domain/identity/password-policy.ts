/** Length bounds in Unicode code points, after NFKC (OWASP ASVS 6.2.1, 6.2.9). */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

/**
 * Everything `checkPassword` can say, as fixed text: the answer is built only
 * from these, so it can never echo the password back into a response or log.
 */
export const PASSWORD_MESSAGES = Object.freeze({
  tooShort: `Use at least ${PASSWORD_MIN_LENGTH} characters.`,
  tooLong: `Use at most ${PASSWORD_MAX_LENGTH} characters.`,
  common: 'This password is too common. Choose one that is harder to guess.',
  containsEmail: 'Do not use your email address in your password.',
});

const MIN_LOCAL_PART = 3;

/**
 * Says why a new password is refused (empty when it is acceptable), so signup,
 * reset and change all apply the same rules. `common` holds lowercase entries.
 */
export function checkPassword(password: string, email: string, common: ReadonlySet<string>): string[] {
  const normalized = password.normalize('NFKC');
  const lower = normalized.toLowerCase();
  const length = codePoints(normalized);
  const problems: string[] = [];
  if (length < PASSWORD_MIN_LENGTH) problems.push(PASSWORD_MESSAGES.tooShort);
  if (length > PASSWORD_MAX_LENGTH) problems.push(PASSWORD_MESSAGES.tooLong);
  if (common.has(lower)) problems.push(PASSWORD_MESSAGES.common);
  const local = localPart(email);
  if (codePoints(local) >= MIN_LOCAL_PART && lower.includes(local)) problems.push(PASSWORD_MESSAGES.containsEmail);
  return problems;
}

function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

// "Ann.Lee+travel@example.com" → "ann.lee": the tag is the user's own alias, not part of their name.
function localPart(email: string): string {
  const normalized = email.normalize('NFKC').toLowerCase();
  const at = normalized.lastIndexOf('@');
  const local = at === -1 ? normalized : normalized.slice(0, at);
  const plus = local.indexOf('+');
  return plus === -1 ? local : local.slice(0, plus);
}
