import { createOrm } from '../db/orm.js';
import { loadConfigWithSealedSecretsOrExit } from '../sealed-secrets.js';
import { createAuditCheckpoint } from './audit-checkpoints.js';
import { verifyAudit } from './audit-verifier.js';

// `npm run audit:verify [-- --checkpoint]`: exit 0 when the audit chain and its checkpoints are
// intact, 1 naming the first bad row. With --checkpoint an intact chain also gets a new signed
// checkpoint; a broken one never does.
const args = process.argv.slice(2);
if (args.some((arg) => arg !== '--checkpoint')) {
  process.stderr.write('usage: npm run audit:verify [-- --checkpoint]\n');
  process.exit(64); // EX_USAGE
}
const config = await loadConfigWithSealedSecretsOrExit();
const orm = await createOrm(config.database);
try {
  const result = await verifyAudit(orm.em.fork(), config.audit.hmacKey);
  if (result.ok) {
    process.stdout.write(`audit log intact: ${result.checked} rows and ${result.checkpoints} checkpoints verified\n`);
    if (args.includes('--checkpoint')) {
      const checkpoint = await createAuditCheckpoint(orm.em.fork(), config.audit.hmacKey);
      process.stdout.write(
        checkpoint
          ? `checkpoint ${checkpoint.id}: seq ${checkpoint.seq}, ${checkpoint.rowCount} rows, ${checkpoint.createdAt}, signature ${checkpoint.signature}\n`
          : 'no checkpoint: the audit log is empty\n',
      );
    }
  } else {
    process.stdout.write(`audit log TAMPERED at seq ${result.seq}: ${result.reason} (${result.checked} rows before it verified)\n`);
    process.exitCode = 1;
  }
} finally {
  await orm.close();
}
