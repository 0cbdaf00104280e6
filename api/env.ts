import type { Logger } from '../infra/logger.js';

/** Hono context variables every route can read. */
export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
    userId: string;
    sessionId: string;
    role: 'user' | 'support' | 'admin';
    clientIp: string;
    /** Writes an authorization failure of the authenticated caller to the audit log. */
    auditDenied?: () => Promise<void>;
  };
}
