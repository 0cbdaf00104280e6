import type { Orm } from '../db/orm.js';
import type { KmsKeyService } from './kms.key-service.js';
import { dataKeyContext } from '../crypto/field-cipher.js';

export interface RewrapReport {
  users: number;
  rewrapped: number;
  alreadyCurrent: number;
}

/**
 * KMS key rotation (SECURITY.md §20): after KMS_KEY_ID's alias moves to a new key, every user's
 * data key is re-encrypted under it (KMS ReEncrypt: the plaintext key never leaves KMS), in
 * batches, so the old key can then be disabled. Data encrypted under the data keys is untouched.
 * Safe to run again: a key already under the current KMS key is re-wrapped to the same key.
 */
export async function rewrapDataKeys(orm: Orm, kms: KmsKeyService, options: { batchSize?: number } = {}): Promise<RewrapReport> {
  const batchSize = options.batchSize ?? 200;
  const report: RewrapReport = { users: 0, rewrapped: 0, alreadyCurrent: 0 };
  const connection = orm.em.getConnection();
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await connection.execute<Array<{ id: string; wrapped_data_key: string }>>(
      'select id, wrapped_data_key from users where wrapped_data_key is not null and id > ? order by id limit ?',
      [after, batchSize],
    );
    for (const row of rows) {
      const out = await kms.rewrap(Buffer.from(row.wrapped_data_key, 'base64'), dataKeyContext(row.id));
      // Only if nobody changed it meanwhile (an erasure destroys it: that must win).
      await connection.execute('update users set wrapped_data_key = ? where id = ? and wrapped_data_key = ?', [
        Buffer.from(out.wrapped).toString('base64'), row.id, row.wrapped_data_key,
      ]);
      report.users += 1;
      if (out.previousKeyId === out.keyId) report.alreadyCurrent += 1;
      else report.rewrapped += 1;
    }
    if (rows.length < batchSize) return report;
    after = rows.at(-1)!.id;
  }
}
