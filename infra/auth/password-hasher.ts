import { randomBytes } from 'node:crypto';
import { hash, parseOptions, verify, type Algorithm, type Options } from '@node-rs/argon2';

/** Argon2id cost parameters as they appear in the PHC string (m in KiB, t, p). */
export interface Argon2idParams {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet's argon2id minimum: m=19456 KiB, t=2, p=1. */
export const OWASP_ARGON2ID: Readonly<Argon2idParams> = Object.freeze({ memoryCost: 19_456, timeCost: 2, parallelism: 1 });

// Ambient const enums cannot be read under verbatimModuleSyntax, and the
// package's runtime `Algorithm` object is empty: spell out the values.
const ARGON2ID: Algorithm = 2;
const ARGON2_VERSION_0X13 = 1;

/** Hashes and checks passwords; the only place that knows the algorithm and its cost. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password and for a malformed hash; never throws for a bad hash. */
  verify(hash: string, password: string): Promise<boolean>;
  /** Spends one real verification on a throwaway hash, so an unknown account costs as long as a known one. */
  verifyAgainstDummy(password: string): Promise<false>;
  /** True when the hash is weaker than the current parameters (or unreadable): rehash after a good login. */
  needsRehash(hash: string): boolean;
}

/** Argon2id hasher; parameters default to OWASP's minimum and may be raised, never lowered silently. */
export function createPasswordHasher(params: Argon2idParams = OWASP_ARGON2ID): PasswordHasher {
  const options: Options = { ...params, algorithm: ARGON2ID };
  // Made once, up front, so the first unknown-user login is not slower than the rest.
  const dummy = hash(randomBytes(32).toString('base64url'), options);
  dummy.catch(() => undefined); // surfaced by verifyAgainstDummy; not an unhandled rejection at start-up

  async function check(encoded: string, password: string): Promise<boolean> {
    try {
      return await verify(encoded, password);
    } catch {
      return false;
    }
  }

  return {
    hash: (password) => hash(password, options),
    verify: check,
    async verifyAgainstDummy(password) {
      await check(await dummy, password);
      return false;
    },
    needsRehash(encoded) {
      try {
        const used = parseOptions(encoded);
        return (
          used.algorithm !== ARGON2ID ||
          used.version !== ARGON2_VERSION_0X13 ||
          used.memoryCost < params.memoryCost ||
          used.timeCost < params.timeCost ||
          used.parallelism < params.parallelism
        );
      } catch {
        return true;
      }
    },
  };
}
