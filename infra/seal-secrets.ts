import { readFileSync, writeFileSync } from 'node:fs';
import { ConfigError } from './config.js';
import { sealSecrets } from './sealed-secrets.js';

/**
 * `npm run secrets:seal -- <plain.json> <sealed.json>`: seals secret settings under KMS_KEY_ID, with
 * the KMS that NODE_ENV's rules allow (local-kms in development, AWS KMS in production).
 */
const [input, output] = process.argv.slice(2);
if (!input || !output) {
  process.stderr.write('usage: npm run secrets:seal -- <plain.json> <sealed.json>\n');
  process.exit(64);
}
try {
  writeFileSync(output, await sealSecrets(JSON.parse(readFileSync(input, 'utf8')) as Record<string, string>), { mode: 0o600 });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(78); // EX_CONFIG, as the other entry points
}
process.stdout.write(`secrets:seal: wrote ${output}; delete ${input} now\n`);
