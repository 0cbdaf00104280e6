import type { AuditEvent } from '../domain/audit-event.js';

/** Appends one audit event in a transaction of its own (infra/audit/audit-log.ts, createAuditWriter). */
export type AuditWriter = (event: AuditEvent) => Promise<void>;

/** The caller of an audited request, as its audit row records them. */
export interface CallerOrigin {
  ip: string | null;
  userAgent: string | null;
}
