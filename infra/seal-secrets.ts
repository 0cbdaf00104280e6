import { readFileSync, writeFileSync } from 'node:fs';
import { sealSecrets } from './sealed-secrets.js';

/** `npm run secrets:seal -- <plain.json> <sealed.json>`: seals secret settings under KMS_KEY_ID. */
const [input, output] = process.argv.slice(2);
if (!input || !output) {
  process.stderr.write('usage: npm run secrets:seal -- <plain.json> <sealed.json>\n');
  process.exit(64);
}
writeFileSync(output, await sealSecrets(JSON.parse(readFileSync(input, 'utf8')) as Record<string, string>), { mode: 0o600 });
process.stdout.write(`secrets:seal: wrote ${output}; delete ${input} now\n`);
