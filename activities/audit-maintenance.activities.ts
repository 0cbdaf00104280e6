import { log } from '@temporalio/activity';

/** Where the audit log's upkeep reaches Postgres (infra/audit/audit-checkpoints.ts). */
export interface AuditMaintenanceDeps {
  auditMaintenance: {
    checkpoint(): Promise<{ seq: string } | null>;
    trim(beforeIso: string, maxRows: number): Promise<{ trimmed: number }>;
  };
}

export function createAuditMaintenanceActivities(deps: AuditMaintenanceDeps) {
  return {
    /** Signs the current end of the chain, so cutting rows off its tail is detected. */
    async takeAuditCheckpoint(): Promise<string | null> {
      return (await deps.auditMaintenance.checkpoint())?.seq ?? null;
    },
    /**
     * Removes audit rows past retention from the head of the chain. A chain that does not verify
     * is evidence: nothing is trimmed, the refusal is logged, and the purge goes on with the rest.
     */
    async trimAuditLog(input: { before: string; maxRows: number }): Promise<number> {
      try {
        return (await deps.auditMaintenance.trim(input.before, input.maxRows)).trimmed;
      } catch (error) {
        if (error instanceof Error && error.name === 'AuditIntegrityError') {
          log.error('audit trim refused: the chain does not verify', { reason: error.message });
          return 0;
        }
        throw error;
      }
    },
  };
}
