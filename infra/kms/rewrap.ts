import { loadConfigOrExit } from '../config.js';
import { createOrm } from '../db/orm.js';
import { createKmsKeyService } from './kms.key-service.js';
import { rewrapDataKeys } from './rewrap-data-keys.js';

/** `npm run kms:rewrap`: re-wraps every user's data key under the key KMS_KEY_ID names now. */
const config = loadConfigOrExit();
const orm = await createOrm(config.database);
const kms = createKmsKeyService(config.kms);
try {
  const report = await rewrapDataKeys(orm, kms);
  process.stdout.write(`kms:rewrap: ${report.users} data keys, ${report.rewrapped} moved to ${config.kms.keyId}, ${report.alreadyCurrent} already under it\n`);
} finally {
  await orm.close();
  kms.destroy();
}
