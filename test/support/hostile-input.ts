import fc from 'fast-check';

/**
 * Hostile request inputs for property-based tests (SECURITY.md §14). Bodies are JSON *text*,
 * built by hand: `__proto__` stays an own key, `1e999` reaches the parser as written.
 */
export class JsonText {
  constructor(readonly text: string) {}
}
const raw = (text: string) => new JsonText(text);
export const jsonOf = (value: unknown) => raw(JSON.stringify(value));
export const objectOf = (entries: ReadonlyArray<readonly [string, JsonText]>) =>
  raw(`{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value.text}`).join(',')}}`);
const arrayOf = (items: readonly JsonText[]) => raw(`[${items.map((i) => i.text).join(',')}]`);

/** Percent-encoded byte by byte (unreserved ASCII kept): lone surrogates and all reach the server as UTF-8. */
export const percentEncode = (s: string) =>
  Array.from(new TextEncoder().encode(s), (b) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`)).join('');

export const SQL_FRAGMENTS = [
  "' OR 1=1 --", "'; drop table users; --", '; drop table users;', "' UNION SELECT password_hash FROM users --",
  "1; select pg_sleep(10) --", '" OR ""="', "$$; delete from bookings; $$", "\\'; --", "%' and 1=0 --", '1) or (1=1',
];
export const MARKUP = [
  '<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', '<svg/onload=alert(1)>', 'javascript:alert(1)',
  '<!--', ']]>', '{{7*7}}', '${7*7}', '../../../../etc/passwd', '\r\nX-Injected: 1', '%00', '%s%s%s%n',
];
export const UNICODE = [
  '\u0000', 'a\u0000b', 'Window seat\u0000', 'bell\u0007', '\u001b[31mred', 'tab\tand\nnewline', '\u007f', '\u202Egnp.exe', '\u200B', '\uFEFF', '\uD800', '\uDC00x', '\u0085', '\u2028\u2029',
  'Ａｄｍｉｎ', '𝕒𝕕𝕞𝕚𝕟', 'e\u0301\u0301\u0301', 'İı', '\u{10FFFF}', '🏳️‍🌈', 'Z̸̢̛̘͍a̸l̷g̸o̴',
];
const FRAGMENTS = [...SQL_FRAGMENTS, ...MARKUP, ...UNICODE];

const controlChars = fc.string({ unit: fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 40 });
// Long, yet the whole body stays under 1 MiB (at most 4 UTF-8 bytes a character).
const oversized = fc
  .tuple(fc.constantFrom('A', "'", '<', 'é', '𝕒', "' OR 1=1 --"), fc.integer({ min: 2_000, max: 200_000 }))
  .map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length));

/** Strings no field should trust; `long: false` keeps them short enough for a URL. */
export function hostileString(options: { long?: boolean } = {}) {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...FRAGMENTS), weight: 4 },
    { arbitrary: fc.array(fc.constantFrom(...FRAGMENTS), { minLength: 2, maxLength: 6 }).map((parts) => parts.join('')), weight: 2 },
    { arbitrary: controlChars, weight: 1 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 64 }), weight: 2 },
    { arbitrary: options.long === false ? fc.string({ unit: 'grapheme', minLength: 200, maxLength: 300 }) : oversized, weight: 1 },
  );
}

const hugeNumber = fc.oneof(
  fc.constantFrom('1e999', '-1e999', `1${'0'.repeat(400)}`, '9007199254740993', '-0', '0.1e-400', '1.7976931348623157e308', '5e-324').map(raw),
  fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }).map((n) => raw(n.toString())),
  fc.double().map(jsonOf),
);

export const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', '__defineGetter__', 'hasOwnProperty', 'toString', 'valueOf'];
const hostileKey = fc.oneof(
  fc.constantFrom(...PROTOTYPE_KEYS, 'isAdmin', 'role', 'userId', '$where', '$gt', '', ' ', 'EMAIL', 'e\u0000mail'),
  hostileString({ long: false }),
);

// Deeply nested and very wide values, as text: parsers that recurse, and validators that collect every key.
const deep = fc
  .tuple(fc.integer({ min: 100, max: 10_000 }), fc.boolean())
  .map(([n, arrays]) => raw(arrays ? `${'['.repeat(n)}${']'.repeat(n)}` : `${'{"a":'.repeat(n)}null${'}'.repeat(n)}`));
const wide = fc.integer({ min: 100, max: 3_000 }).map((n) => objectOf(Array.from({ length: n }, (_, i) => [`k${i}`, raw(String(i))] as const)));

const scalars = fc.oneof(hostileString().map(jsonOf), hugeNumber, fc.constantFrom('null', 'true', 'false', '{}', '[]').map(raw));
/** Any JSON value an attacker might send, nested junk included. */
export const junk: fc.Arbitrary<JsonText> = fc.letrec<{ value: JsonText }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    { arbitrary: scalars, weight: 6 },
    { arbitrary: fc.array(tie('value'), { maxLength: 4 }).map(arrayOf), weight: 2 },
    { arbitrary: fc.array(fc.tuple(hostileKey, tie('value')), { maxLength: 4 }).map(objectOf), weight: 2 },
    { arbitrary: fc.oneof(deep, wide), weight: 1 },
  ),
})).value;

/** The subset of JSON Schema that OpenAPI documents here use for request fields. */
export interface FieldSchema {
  type?: string | string[];
  anyOf?: FieldSchema[];
  enum?: unknown[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, FieldSchema>;
  required?: string[];
  additionalProperties?: boolean | FieldSchema;
  items?: FieldSchema;
}

const JSON_TYPES = ['string', 'number', 'boolean', 'null', 'array', 'object'] as const;
type JsonType = (typeof JSON_TYPES)[number];

/** The JSON types a field accepts, or undefined when the schema does not say. */
export function typesOf(schema: FieldSchema): Set<JsonType> | undefined {
  if (schema.anyOf) {
    const parts = schema.anyOf.map(typesOf);
    return parts.every(Boolean) ? new Set(parts.flatMap((p) => [...p!])) : undefined;
  }
  if (!schema.type) return undefined;
  return new Set([schema.type].flat().map((t) => (t === 'integer' ? 'number' : t) as JsonType));
}

const valueOfType: Record<JsonType, fc.Arbitrary<JsonText>> = {
  string: hostileString().map(jsonOf),
  number: hugeNumber,
  boolean: fc.constantFrom(raw('true'), raw('false')),
  null: fc.constant(raw('null')),
  array: fc.array(junk, { maxLength: 3 }).map(arrayOf),
  object: fc.array(fc.tuple(hostileKey, junk), { maxLength: 3 }).map(objectOf),
};

/** A value of a JSON type the field does not accept; undefined when its types are unknown. */
export function wrongTypeFor(schema: FieldSchema): fc.Arbitrary<JsonText> | undefined {
  const accepted = typesOf(schema);
  if (!accepted) return undefined;
  return fc.oneof(...JSON_TYPES.filter((t) => !accepted.has(t)).map((t) => valueOfType[t]));
}

/** A JSON Schema pattern is read in Unicode mode. */
function patternOf(pattern: string): RegExp {
  return new RegExp(pattern, 'u');
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]|\p{Cs}/u;
/** What no string field takes: NUL first (Postgres refuses it), then bell, escape, DEL and half a surrogate pair. */
export const CONTROL_CHARACTERS = ['\u0000', '\u0007', '\u001b', '\u007f', '\uD800'] as const;
// Characters zod's e-mail pattern allows at all: anything else, or no @, cannot be an address.
const EMAIL_CHARS = /^[A-Za-z0-9_'+\-.@]*$/;

/**
 * Whether `value` breaks one of the field's string constraints whatever the validator trims or
 * coerces first: the generators rely on this to send only requests that must be rejected.
 */
export function surelyInvalid(schema: FieldSchema, value: string): boolean {
  const forms = [value, value.trim()];
  const types = typesOf(schema);
  if (types?.has('number') && !types.has('string')) {
    // z.coerce.number(): what Number() makes of the text is what gets checked.
    const n = Number(value);
    return !(Number.isFinite(n) && (schema.type !== 'integer' || Number.isInteger(n)) && n >= (schema.minimum ?? -Infinity) && n <= (schema.maximum ?? Infinity));
  }
  // No string field takes NUL, another C0 control but tab, LF and CR, DEL or half a surrogate pair
  // (domain/free-text.ts): Postgres refuses NUL, and the rest forge what a reader sees.
  if (CONTROL.test(value)) return true;
  if (schema.enum && forms.every((f) => !schema.enum!.includes(f))) return true;
  // JSON Schema (and zod 4) count lengths in code points, not UTF-16 units.
  const length = (f: string) => [...f].length;
  if (schema.maxLength !== undefined && forms.every((f) => length(f) > schema.maxLength!)) return true;
  if (schema.minLength !== undefined && forms.every((f) => length(f) < schema.minLength!)) return true;
  if (schema.pattern && forms.every((f) => !patternOf(schema.pattern!).test(f))) return true;
  if (schema.format === 'email' && forms.every((f) => !f.includes('@') || !EMAIL_CHARS.test(f))) return true;
  if (schema.format === 'date' && forms.every((f) => !/^\d{4}-\d{2}-\d{2}$/.test(f))) return true;
  return false;
}

/** A string the field must refuse; undefined when the field has no string constraint to break. */
export function invalidStringFor(schema: FieldSchema, options: { long?: boolean } = {}): fc.Arbitrary<string> | undefined {
  const constrained = schema.enum || schema.pattern || schema.maxLength !== undefined || schema.minLength || schema.format === 'email' || schema.format === 'date' || typesOf(schema)?.has('number');
  if (!constrained) return undefined;
  return hostileString(options).filter((s) => surelyInvalid(schema, s));
}

/** A key the object schema does not know: hostile, prototype-polluting or just unexpected. */
export function unknownKeyFor(schema: FieldSchema): fc.Arbitrary<string> {
  const known = new Set(Object.keys(schema.properties ?? {}));
  return hostileKey.filter((key) => key !== '' && !known.has(key));
}

/** Malformed JSON texts; none of them parses. */
export function malformedJson(validText: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.integer({ min: 1, max: Math.max(1, validText.length - 1) }).map((end) => validText.slice(0, end)),
    fc.constantFrom('{', '{"a":}', "{'a':1}", '{"a":1,}', 'NaN', '[1,2', '{"a":1}/*x*/', '\u0000', 'undefined', '{"a":"\u0000', '{"\\ud800":1', `\uFEFF${validText}x`),
  );
}
