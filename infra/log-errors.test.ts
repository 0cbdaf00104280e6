import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { describe, expect, it } from 'vitest';
import { serializeError } from './log-errors.js';

const statement = "insert into users (email) values ('ada@example.com') - duplicate key value violates unique constraint";
const pgError = () =>
  Object.assign(new Error(statement), { code: '23505', severity: 'ERROR', detail: 'Key (email)=(ada@example.com) already exists.', table: 'users', constraint: 'users_email_unique' });

describe('serializeError', () => {
  it('keeps only class, SQLSTATE, constraint and table of a driver exception', () => {
    expect(serializeError(new UniqueConstraintViolationException(pgError()))).toEqual({
      type: 'UniqueConstraintViolationException', code: '23505', constraint: 'users_email_unique', table: 'users',
    });
  });

  it('summarises pg errors and anything carrying sql or params, however deep in the causes', () => {
    const wrapped = new Error('saving failed', { cause: new Error('inner', { cause: pgError() }) });
    const withSql = Object.assign(new Error(`failed: ${statement}`), { sql: statement, params: ['ada@example.com'] });
    const text = JSON.stringify([serializeError(wrapped), serializeError(withSql), serializeError(new AggregateError([pgError()], 'many'))]);
    expect(text).not.toContain('ada@example.com');
    expect(text).toContain('"code":"23505"');
    expect(text).toContain('saving failed');
  });

  it('drops the arguments of a Redis command and passes plain values through', () => {
    const reply = Object.assign(new Error('WRONGTYPE'), { command: { name: 'hset', args: ['k', 'ada@example.com'] } });
    expect(serializeError(reply)).toMatchObject({ type: 'Error', message: 'WRONGTYPE', command: { name: 'hset' } });
    expect(JSON.stringify(serializeError(reply))).not.toContain('ada@example.com');
    expect(serializeError('a message')).toBe('a message');
  });
});
