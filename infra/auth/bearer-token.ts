import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Whether an `Authorization` header is `Bearer <token>`: the shared secret of a machine caller
 * (Prometheus with `bearer_token_file`). Equal-length digests are compared, so the check takes the
 * same time whatever was sent and leaks no length.
 */
export function bearerTokenCheck(token: string): (authorization: string | undefined) => boolean {
  const expected = digest(token);
  return function presentsToken(authorization) {
    const presented = /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1];
    return presented !== undefined && timingSafeEqual(digest(presented), expected);
  };
}
