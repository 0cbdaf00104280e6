/**
 * Where to go after signing in (`?next=`): a path of this app only, never another origin (an open
 * redirect) nor the login page again. Anything else goes to the start page.
 */
export function safeNext(next: string | null, origin: string): string {
  // A browser reads `\` as `/` and drops tabs and newlines, so `/\evil` and `/<tab>/evil` are `//evil`: refuse them outright.
  if (!next || !next.startsWith('/') || [...next].some((char) => char === '\\' || char <= ' ' || char === '\u007f')) return '/';
  const url = new URL(next, origin);
  if (url.origin !== origin || url.pathname === '/login') return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}
