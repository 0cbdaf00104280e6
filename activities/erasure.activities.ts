/** Where the account-deletion workflow reaches the system of record. */
export interface ErasureDeps {
  erasure: { eraseAccount(userId: string): Promise<{ erased: boolean; bookings: number }> };
  /** Appends an audit event (infra/audit) in a transaction of its own. */
  audit: (event: { actor: string; action: string; resource: string; result: string; details?: Record<string, string | number | boolean | null> }) => Promise<void>;
}

export function createErasureActivities(deps: ErasureDeps) {
  return {
    async eraseAccount(userId: string): Promise<{ erased: boolean; bookings: number }> {
      const outcome = await deps.erasure.eraseAccount(userId);
      await deps.audit({
        actor: 'system', action: 'account.erase', resource: `user:${userId}`,
        result: outcome.erased ? 'erased' : 'nothing-to-erase', details: { bookings: outcome.bookings },
      });
      return outcome;
    },
  };
}
