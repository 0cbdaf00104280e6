/** Methods that change no state (RFC 9110 §9.2.1): the CSRF checks let them through. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
