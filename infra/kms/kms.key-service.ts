import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import type { Config } from '../config.js';
import type { KeyService } from '../crypto/field-cipher.js';

/** KeyService on AWS KMS, or on local-kms when an endpoint override is configured. */
export function createKmsKeyService(kms: Config['kms']): KeyService & { destroy(): void } {
  const client = new KMSClient({
    region: kms.region,
    ...(kms.endpoint
      ? // local-kms accepts any credentials; real AWS uses the default provider chain.
        { endpoint: kms.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
  return {
    async generateDataKey(context) {
      const out = await client.send(
        new GenerateDataKeyCommand({ KeyId: kms.keyId, KeySpec: 'AES_256', EncryptionContext: context }),
      );
      if (!out.Plaintext || !out.CiphertextBlob) throw new Error('KMS returned no data key');
      return { plaintext: out.Plaintext, wrapped: out.CiphertextBlob };
    },
    async decryptDataKey(wrapped, context) {
      const out = await client.send(
        new DecryptCommand({ KeyId: kms.keyId, CiphertextBlob: wrapped, EncryptionContext: context }),
      );
      if (!out.Plaintext) throw new Error('KMS returned no plaintext');
      return out.Plaintext;
    },
    destroy: () => client.destroy(),
  };
}
