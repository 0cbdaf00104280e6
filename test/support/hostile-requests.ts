import fc from 'fast-check';
import {
  CONTROL_CHARACTERS, hostileString, invalidStringFor, JsonText, jsonOf, junk, malformedJson, objectOf, percentEncode, unknownKeyFor, wrongTypeFor,
  type FieldSchema,
} from './hostile-input.js';

/**
 * Request bodies and query strings, each invalid by construction for the schema it is made
 * for (an unknown key on a strict object, a wrong type, a broken constraint, a missing
 * required field, malformed JSON), so a server that accepts one has a validation gap.
 */

type Path = ReadonlyArray<string | number>;
interface Field {
  path: Path;
  schema: FieldSchema;
}

export interface BodySchema extends FieldSchema {
  minItems?: number;
  maxItems?: number;
}

const key = (path: Path) => path.join('\u0001');

/** What to change while rendering a value as JSON text. */
interface Edits {
  replace?: ReadonlyMap<string, JsonText>;
  remove?: string;
  extra?: { at: string; entries: ReadonlyArray<readonly [string, JsonText]> };
}

function render(value: unknown, edits: Edits, path: Path = []): JsonText {
  const here = key(path);
  const replaced = edits.replace?.get(here);
  if (replaced) return replaced;
  if (Array.isArray(value)) return new JsonText(`[${value.map((item, i) => render(item, edits, [...path, i]).text).join(',')}]`);
  if (value && typeof value === 'object') {
    const entries: Array<readonly [string, JsonText]> = Object.entries(value)
      .filter(([name]) => edits.remove !== key([...path, name]))
      .map(([name, v]) => [name, render(v, edits, [...path, name])] as const);
    if (edits.extra?.at === here) entries.splice(entries.length > 0 ? 1 : 0, 0, ...edits.extra.entries);
    return objectOf(entries);
  }
  return jsonOf(value);
}

/** Every field the example carries, with its schema: nested objects and first array items too. */
function fieldsOf(schema: BodySchema, example: unknown, path: Path = []): Field[] {
  const fields: Field[] = [];
  if (schema.properties && example && typeof example === 'object' && !Array.isArray(example)) {
    for (const [name, child] of Object.entries(schema.properties)) {
      if (!(name in example)) continue;
      const childPath = [...path, name];
      fields.push({ path: childPath, schema: child }, ...fieldsOf(child, (example as Record<string, unknown>)[name], childPath));
    }
  }
  if (schema.items && Array.isArray(example) && example.length > 0) {
    fields.push({ path: [...path, 0], schema: schema.items }, ...fieldsOf(schema.items, example[0], [...path, 0]));
  }
  return fields;
}

function valueAt(value: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, step) => (v as Record<string | number, unknown>)[step], value);
}

/** One of the strategies that apply to this schema, by weight. */
function weighted<T>(...strategies: Array<readonly [fc.Arbitrary<T> | undefined, number]>): fc.Arbitrary<T> {
  return fc.oneof(...strategies.flatMap(([arbitrary, weight]) => (arbitrary ? [{ arbitrary, weight }] : [])));
}

/** Invalid JSON bodies for an object schema, starting from a valid example. */
export function hostileBodies(schema: BodySchema, example: Record<string, unknown>): fc.Arbitrary<string> {
  const fields = fieldsOf(schema, example);
  const root = { path: [], schema } satisfies Field;
  // SECURITY.md §14 wants every object strict, so an unknown key must be refused even where the
  // document forgot to say so; only maps (additionalProperties: a schema) take any key.
  const strictObjects = [root, ...fields].filter((f) => f.schema.properties && typeof f.schema.additionalProperties !== 'object');
  const typed = fields.flatMap((f) => {
    const wrong = wrongTypeFor(f.schema);
    return wrong ? [{ ...f, wrong }] : [];
  });
  const constrained = fields.flatMap((f) => {
    const bad = typeof f.schema.type === 'string' || Array.isArray(f.schema.type) ? invalidStringFor(f.schema) : undefined;
    return bad ? [{ ...f, bad }] : [];
  });
  const requiredFields = [root, ...fields].flatMap((f) => (f.schema.required ?? []).map((name) => [...f.path, name]));
  const bounded = fields.filter((f) => f.schema.items && ((f.schema as BodySchema).minItems || (f.schema as BodySchema).maxItems !== undefined));
  const topLevel = Object.keys(example);

  // An otherwise valid body, any of its fields swapped for junk, plus keys the schema does not know.
  const unknownKeys = strictObjects.length === 0 ? undefined : fc
    .constantFrom(...strictObjects)
    .chain((target) =>
      fc.tuple(
        fc.constant(target),
        fc.array(fc.tuple(unknownKeyFor(target.schema), junk), { minLength: 1, maxLength: 3 }),
        // Never the field that holds the target: its unknown key must survive.
        fc.subarray(topLevel.filter((name) => name !== target.path[0])).map((names) => names.slice(0, 2)),
        fc.array(junk, { minLength: 2, maxLength: 2 }),
      ),
    )
    .map(([target, entries, chaos, values]) =>
      render(example, { extra: { at: key(target.path), entries }, replace: new Map(chaos.map((name, i) => [key([name]), values[i]!])) }).text,
    );
  const wrongType = typed.length === 0 ? undefined : fc.constantFrom(...typed).chain((f) => f.wrong.map((v) => render(example, { replace: new Map([[key(f.path), v]]) }).text));
  const brokenString = constrained.length === 0
    ? undefined
    : fc.constantFrom(...constrained).chain((f) => f.bad.map((s) => render(example, { replace: new Map([[key(f.path), jsonOf(s)]]) }).text));
  const missing = requiredFields.length === 0 ? undefined : fc.constantFrom(...requiredFields).map((path) => render(example, { remove: key(path) }).text);
  const arrayBounds = bounded.length === 0
    ? undefined
    : fc.constantFrom(...bounded).chain((f) => {
        const s = f.schema as BodySchema;
        const lengths = [...(s.minItems ? [0] : []), ...(s.maxItems !== undefined ? [s.maxItems + 1, s.maxItems + 50] : [])];
        return fc.constantFrom(...lengths).map((n) => {
          const item = render(valueAt(example, [...f.path, 0]), {}, [...f.path, 0]).text;
          const many = new JsonText(`[${Array.from({ length: n }, () => item).join(',')}]`);
          return render(example, { replace: new Map([[key(f.path), many]]) }).text;
        });
      });
  // Arrays where the object belongs, scalars, nested junk, or the valid body wrapped in an array.
  const notAnObject = weighted([wrongTypeFor(schema)?.map((v) => v.text), 3], [fc.constant(`[${render(example, {}).text}]`), 1]);
  const malformed = malformedJson(render(example, {}).text);

  const spliced = withControlCharacters(schema, example).map((b) => b.text);
  const controlled = spliced.length === 0 ? undefined : fc.constantFrom(...spliced);

  return weighted([unknownKeys, 4], [wrongType, 2], [brokenString, 2], [missing, 1], [arrayBounds, 1], [notAnObject, 1], [malformed, 1], [controlled, 1]);
}

/**
 * The valid example with a control character spliced into one string field, for every string
 * field (NUL and one other of CONTROL_CHARACTERS): invalid by construction, since no field takes one. A sweep
 * rather than a sample, so a free-text field without a pattern cannot hide among the others.
 */
export function withControlCharacters(schema: BodySchema, example: Record<string, unknown>): Array<{ field: string; text: string }> {
  return fieldsOf(schema, example).flatMap((f, index) => {
    const value = valueAt(example, f.path);
    if (typeof value !== 'string') return [];
    const at = Math.floor(value.length / 2);
    // NUL everywhere, and the others in turn: every kind is tried, and the sweep stays quick.
    const [nul, ...others] = CONTROL_CHARACTERS;
    return [nul, others[index % others.length]!].map((control) => ({
      field: f.path.join('.'),
      text: render(example, { replace: new Map([[key(f.path), jsonOf(`${value.slice(0, at)}${control}${value.slice(at)}`)]]) }).text,
    }));
  });
}

export interface QueryParameter {
  name: string;
  required?: boolean;
  schema: FieldSchema;
}

/** Invalid query strings (without the `?`) for a strict query schema, starting from a valid example. */
export function hostileQueries(parameters: readonly QueryParameter[], example: Record<string, string>): fc.Arbitrary<string> {
  const names = new Set(parameters.map((p) => p.name));
  const encode = (entries: ReadonlyArray<readonly [string, string]>) => entries.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
  const base = Object.entries(example);
  const short = hostileString({ long: false });
  const unknownParam = fc.tuple(unknownKeyFor({ properties: Object.fromEntries([...names].map((n) => [n, {}])) }), short);

  const unknown = fc
    .tuple(fc.array(unknownParam, { minLength: 1, maxLength: 3 }), fc.subarray(base.map(([k]) => k)), fc.array(short, { minLength: base.length, maxLength: base.length }))
    .map(([extra, chaos, values]) => encode([...base.map(([k, v], i) => [k, chaos.includes(k) ? values[i]! : v] as const), ...extra]));
  const breakable = parameters.flatMap((p) => {
    const bad = invalidStringFor(p.schema, { long: false });
    return bad ? [{ name: p.name, bad }] : [];
  });
  const broken = breakable.length === 0
    ? undefined
    : fc.constantFrom(...breakable).chain(({ name, bad }) => bad.map((value) => encode([...base.filter(([k]) => k !== name), [name, value]])));
  const required = parameters.filter((p) => p.required).map((p) => p.name);
  const missing = required.length === 0 ? undefined : fc.constantFrom(...required).map((name) => encode(base.filter(([k]) => k !== name)));
  // A repeated parameter arrives as an array, which no field accepts.
  const repeated = fc.tuple(fc.constantFrom(...names), short).map(([name, value]) => encode([...base, [name, value], [name, example[name] ?? value]]));
  const garbage = fc
    .tuple(fc.constantFrom('%', '%zz=%', 'a=%E0%A4%A', '&&&=', '%00=%00', '=', 'a[b]=1', 'a[__proto__][x]=1'), unknownParam)
    .map(([text, extra]) => `${encode([...base, extra])}&${text}`);

  return weighted([unknown, 3], [broken, 2], [missing, 1], [repeated, 1], [garbage, 1]);
}
