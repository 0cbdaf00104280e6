import { readFileSync } from 'node:fs';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { ConfigError, kmsSettings, loadConfigOrExit, type Config } from './config.js';
import { SECRET_VARIABLES, type SecretScope } from './secrets.js';
import { kmsClientConfig } from './transport-policy.js';

/**
 * A KMS-sealed secrets file (SECURITY.md §21): one JSON document `{ "version": 1, "ciphertext" }`
 * whose ciphertext is KMS Encrypt of `{ NAME: value }` under KMS_KEY_ID, bound to the
 * encryption context below. Only the processes whose KMS role may Decrypt it read the secrets;
 * the file itself can live in the deployment repository. `SECRETS_FILE` names it.
 */
const CONTEXT = { purpose: 'travelconnect-secrets' };

function kmsClient(env: NodeJS.ProcessEnv) {
  const kms = kmsSettings(env);
  return {
    kms,
    client: new KMSClient(kmsClientConfig(kms)),
  };
}

/** Seals secret values into the file format (npm run secrets:seal). */
export async function sealSecrets(values: Record<string, string>, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const unknown = Object.keys(values).filter((name) => !(SECRET_VARIABLES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`not secret settings: ${unknown.join(', ')}`);
  const { kms, client } = kmsClient(env);
  try {
    const out = await client.send(new EncryptCommand({ KeyId: kms.keyId, Plaintext: Buffer.from(JSON.stringify(values)), EncryptionContext: CONTEXT }));
    return `${JSON.stringify({ version: 1, ciphertext: Buffer.from(out.CiphertextBlob!).toString('base64') }, null, 2)}\n`;
  } finally {
    client.destroy();
  }
}

/** Opens the file SECRETS_FILE names; none named, nothing opened. Problems are ConfigErrors naming SECRETS_FILE. */
export async function openSealedSecrets(env: NodeJS.ProcessEnv = process.env): Promise<Record<string, string>> {
  const path = env.SECRETS_FILE;
  if (!path) return {};
  let ciphertext: string;
  try {
    const document = JSON.parse(readFileSync(path, 'utf8')) as { version?: number; ciphertext?: unknown };
    if (document.version !== 1 || typeof document.ciphertext !== 'string') throw new Error('format');
    ciphertext = document.ciphertext;
  } catch {
    throw new ConfigError(['SECRETS_FILE: cannot read a sealed secrets file (version 1) at the path it names']);
  }
  const { client } = kmsClient(env);
  try {
    const out = await client.send(new DecryptCommand({ CiphertextBlob: Buffer.from(ciphertext, 'base64'), EncryptionContext: CONTEXT }));
    const values = JSON.parse(Buffer.from(out.Plaintext!).toString('utf8')) as Record<string, unknown>;
    const secrets: Record<string, string> = {};
    for (const [name, value] of Object.entries(values)) {
      if (!(SECRET_VARIABLES as readonly string[]).includes(name) || typeof value !== 'string') {
        throw new ConfigError([`SECRETS_FILE: ${name} is not a secret setting`]);
      }
      secrets[name] = value;
    }
    return secrets;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    // The KMS error names no secret; it says the file was not sealed for this key and context.
    throw new ConfigError(['SECRETS_FILE: KMS could not open it (wrong key, context or a damaged file)']);
  } finally {
    client.destroy();
  }
}

/** For entry points: the sealed secrets (if any) and the environment, parsed, or exit 78 naming the problem. */
export async function loadConfigWithSealedSecretsOrExit(
  env: NodeJS.ProcessEnv = process.env,
  scope: SecretScope = 'application',
): Promise<Config> {
  try {
    return loadConfigOrExit(env, await openSealedSecrets(env), scope);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}
