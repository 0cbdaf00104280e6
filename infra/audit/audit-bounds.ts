import type { AuditEvent } from '../../domain/audit-event.js';

/** The audit_log column widths (migration 0004), in characters as Postgres counts them. */
export const AUDIT_COLUMN_CHARS = { actor: 200, action: 100, resource: 200, result: 40, ip: 64, userAgent: 400 } as const;
/** Longest string kept in `details` (jsonb has no width; an unbounded value would still bloat the log). */
export const AUDIT_DETAIL_CHARS = 400;
/** Ends a value cut to fit; ASCII, so the admin search (printable ASCII) can still ask for it. */
export const TRUNCATION_MARKER = '...[truncated]';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text Postgres stores exactly as given, at most `max` characters. NUL is refused by text and
 * jsonb alike, and a lone surrogate would be stored as U+FFFD, so the row would no longer match
 * the MAC computed over it: both become U+FFFD here, before the MAC. Characters are code points
 * (what varchar(n) counts), so a cut never splits a surrogate pair.
 */
export function auditText(value: string, max: number): string {
  const clean = value.replace(LONE_SURROGATE, '\uFFFD').replaceAll('\0', '\uFFFD');
  const chars = Array.from(clean);
  if (chars.length <= max) return clean;
  return chars.slice(0, max - TRUNCATION_MARKER.length).join('') + TRUNCATION_MARKER;
}

/**
 * The event cut to what the table holds. Callers write request-derived values (paths, user
 * agents, query filters); none of them may turn the refusal being audited into a 500, or leave
 * it unaudited.
 */
export function boundedAuditEvent(event: AuditEvent): AuditEvent {
  const nullable = (value: string | null | undefined, max: number) => (value == null ? null : auditText(value, max));
  const details = event.details && Object.fromEntries(
    Object.entries(event.details).map(([key, value]) => [
      auditText(key, AUDIT_DETAIL_CHARS),
      typeof value === 'string' ? auditText(value, AUDIT_DETAIL_CHARS) : value,
    ]),
  );
  return {
    actor: auditText(event.actor, AUDIT_COLUMN_CHARS.actor),
    action: auditText(event.action, AUDIT_COLUMN_CHARS.action),
    resource: auditText(event.resource, AUDIT_COLUMN_CHARS.resource),
    result: auditText(event.result, AUDIT_COLUMN_CHARS.result),
    ip: nullable(event.ip, AUDIT_COLUMN_CHARS.ip),
    userAgent: nullable(event.userAgent, AUDIT_COLUMN_CHARS.userAgent),
    ...(details ? { details } : {}),
  };
}
