import { DriverException } from '@mikro-orm/core';

type ErrorLike = Error & Record<string, unknown>;

const SQLSTATE = /^[0-9A-Z]{5}$/;
const MAX_DEPTH = 5;

const isErrorLike = (value: unknown): value is ErrorLike =>
  typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';

const typeOf = (error: ErrorLike) => (typeof error.constructor === 'function' && error.constructor.name) || error.name;

/**
 * An error whose text quotes a statement or its values: MikroORM's DriverException (message and
 * stack hold the whole SQL with parameters), pg's own DatabaseError (its `detail` names the
 * offending value), and anything else carrying `sql` or `params`.
 */
function quotesQuery(error: ErrorLike): boolean {
  if (error instanceof DriverException) return true;
  if ('sql' in error || 'params' in error || 'parameters' in error) return true;
  return typeof error.code === 'string' && SQLSTATE.test(error.code) && 'severity' in error;
}

/** Only what says which statement class failed where: never message, SQL, parameters, detail or stack. */
function querySummary(error: ErrorLike): Record<string, unknown> {
  const summary: Record<string, unknown> = { type: typeOf(error) };
  for (const key of ['code', 'constraint', 'table'] as const) {
    if (typeof error[key] === 'string' && error[key] !== '') summary[key] = error[key];
  }
  return summary;
}

function serialize(error: ErrorLike, depth: number): Record<string, unknown> {
  if (quotesQuery(error)) return querySummary(error);
  if (depth >= MAX_DEPTH) return { type: typeOf(error) };
  const out: Record<string, unknown> = { type: typeOf(error), message: error.message, stack: error.stack };
  for (const [key, value] of Object.entries(error)) {
    if (key in out || key === 'cause' || key === 'errors') continue;
    out[key] = isErrorLike(value) ? serialize(value, depth + 1) : value;
  }
  // ioredis: a ReplyError's command holds the key and every value sent with it.
  const command = error.command as { name?: unknown } | undefined;
  if (command && typeof command === 'object') out.command = { name: command.name };
  // Unlike pino's own serializer, a cause is not folded into the message: it may quote a query.
  if (error.cause !== undefined) out.cause = isErrorLike(error.cause) ? serialize(error.cause, depth + 1) : '[non-error cause]';
  if (Array.isArray(error.errors)) out.errors = error.errors.map((e: unknown) => (isErrorLike(e) ? serialize(e, depth + 1) : e));
  return out;
}

/**
 * The `err` serializer of every logger (infra/logger.ts): a store's failure is logged by its class,
 * SQLSTATE, constraint and table, because its text would put e-mail addresses, names, notes and
 * ciphertexts from the statement into the log. Values that are not errors pass unchanged.
 */
export function serializeError(value: unknown): unknown {
  return isErrorLike(value) ? serialize(value, 0) : value;
}
