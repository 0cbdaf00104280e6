import { loadConfigOrExit } from '../config.js';
import { createOrm } from '../db/orm.js';
import { verifyAudit } from './audit-log.js';

// `npm run audit:verify`: exit 0 when the audit chain is intact, 1 naming the first bad row.
const config = loadConfigOrExit();
const orm = await createOrm(config.database);
try {
  const result = await verifyAudit(orm.em.fork(), config.audit.hmacKey);
  if (result.ok) {
    process.stdout.write(`audit log intact: ${result.checked} rows verified\n`);
  } else {
    process.stdout.write(`audit log TAMPERED at seq ${result.seq}: ${result.reason} (${result.checked} rows before it verified)\n`);
    process.exitCode = 1;
  }
} finally {
  await orm.close();
}
