import { z } from 'zod';

/**
 * No NUL (Postgres text refuses it: a 500), no other C0 control but tab, LF and CR, no DEL and no
 * half of a surrogate pair (stored as U+FFFD, so not what was sent). Written as a pattern so the
 * OpenAPI document says it and the hostile-input generators test it.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const NO_CONTROL_CHARACTERS = /^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F\uD800-\uDFFF]*$/u;

/** Every string a person types: notes, passwords, tokens passed through. */
export const freeText = (options: { min?: number; max: number }) =>
  z.string().min(options.min ?? 0).max(options.max).regex(NO_CONTROL_CHARACTERS, 'must not contain control characters');
