import { describe, expect, it } from 'vitest';
import { AUDIT_COLUMN_CHARS, AUDIT_DETAIL_CHARS, auditText, boundedAuditEvent, TRUNCATION_MARKER } from './audit-bounds.js';

const event = { actor: 'user:1', action: 'authz.role', resource: 'GET /x', result: 'denied' };

describe('audit bounds (SECURITY.md §37)', () => {
  it('keeps what fits exactly as given', () => {
    const fits = { ...event, ip: '10.0.0.1', userAgent: 'agent/1.0', details: { from: 'a', n: 1, ok: true, none: null } };
    expect(boundedAuditEvent(fits)).toEqual(fits);
    expect(auditText('x'.repeat(200), 200)).toBe('x'.repeat(200));
  });

  it('cuts every column to its width with a marker', () => {
    const long = 'a'.repeat(5000);
    const bounded = boundedAuditEvent({ actor: long, action: long, resource: long, result: long, ip: long, userAgent: long, details: { path: long } });
    for (const column of Object.keys(AUDIT_COLUMN_CHARS) as Array<keyof typeof AUDIT_COLUMN_CHARS>) {
      expect(bounded[column]).toHaveLength(AUDIT_COLUMN_CHARS[column]);
      expect(bounded[column]!.endsWith(TRUNCATION_MARKER)).toBe(true);
    }
    expect(bounded.details!.path).toHaveLength(AUDIT_DETAIL_CHARS);
  });

  it('counts code points as Postgres does and never splits a surrogate pair', () => {
    const emoji = '\u{1F600}'.repeat(300); // 600 UTF-16 units, 300 characters
    const cut = auditText(emoji, 200);
    expect(Array.from(cut)).toHaveLength(200);
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(auditText('\u{1F600}'.repeat(200), 200)).toBe('\u{1F600}'.repeat(200));
  });

  it('replaces NUL and lone surrogates, which Postgres would refuse or store changed (breaking the MAC)', () => {
    expect(auditText('a\0b', 10)).toBe('a\uFFFDb');
    expect(auditText('a\uD800b\uDC00', 10)).toBe('a\uFFFDb\uFFFD');
    expect(boundedAuditEvent({ ...event, details: { 'k\0': 'v\0' } }).details).toEqual({ 'k\uFFFD': 'v\uFFFD' });
  });
});
