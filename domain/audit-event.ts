/** Who did what to which resource, with what result. No PII: mask or hash before it gets here. */
export interface AuditEvent {
  actor: string;
  action: string;
  resource: string;
  result: string;
  ip?: string | null;
  userAgent?: string | null;
  details?: Record<string, string | number | boolean | null>;
}
