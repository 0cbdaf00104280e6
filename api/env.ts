import type { Logger } from '../infra/logger.js';

/** Who a session acts as: the session decides it, never the token alone. */
export type Role = 'user' | 'support' | 'admin';

/** Hono context variables every route can read. */
export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
    userId: string;
    sessionId: string;
    role: Role;
    clientIp: string;
    /** Writes an authorization failure of the authenticated caller to the audit log. */
    auditDenied?: () => Promise<void>;
  };
}
