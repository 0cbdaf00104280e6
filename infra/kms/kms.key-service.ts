import { DecryptCommand, GenerateDataKeyCommand, KMSClient, ReEncryptCommand } from '@aws-sdk/client-kms';
import type { Config } from '../config.js';
import type { KeyService } from '../crypto/field-cipher.js';
import { DataKeyRefusedError } from '../crypto/key-errors.js';
import { kmsClientConfig } from '../transport-policy.js';

/** KeyService on AWS KMS, or on local-kms when an endpoint override is configured. */
export interface KmsKeyService extends KeyService {
  /** Re-wraps a data key under the key KMS_KEY_ID names now (after a rotation); returns it and the key that wrapped it before. */
  rewrap(wrapped: Uint8Array, context: Record<string, string>): Promise<{ wrapped: Uint8Array; previousKeyId: string; keyId: string }>;
  destroy(): void;
}

/**
 * A client fault about the blob itself (InvalidCiphertext, IncorrectKey, a key that does not exist or
 * is not ours, a malformed blob) is a refusal; throttling is a client fault too, but passes.
 */
function refusal(error: unknown): DataKeyRefusedError | undefined {
  const fault = error as { name?: unknown; $fault?: unknown };
  if (fault.$fault !== 'client' || typeof fault.name !== 'string') return undefined;
  if (/Throttl|LimitExceeded/.test(fault.name)) return undefined;
  return new DataKeyRefusedError(fault.name);
}

export function createKmsKeyService(kms: Config['kms']): KmsKeyService {
  const client = new KMSClient(kmsClientConfig(kms));
  return {
    async generateDataKey(context) {
      const out = await client.send(
        new GenerateDataKeyCommand({ KeyId: kms.keyId, KeySpec: 'AES_256', EncryptionContext: context }),
      );
      if (!out.Plaintext || !out.CiphertextBlob) throw new Error('KMS returned no data key');
      return { plaintext: out.Plaintext, wrapped: out.CiphertextBlob };
    },
    async decryptDataKey(wrapped, context) {
      // No KeyId: a symmetric blob names its key, so keys wrapped before a rotation still open.
      const out = await client.send(new DecryptCommand({ CiphertextBlob: wrapped, EncryptionContext: context })).catch((error: unknown) => {
        throw refusal(error) ?? error;
      });
      if (!out.Plaintext) throw new Error('KMS returned no plaintext');
      return out.Plaintext;
    },
    async rewrap(wrapped, context) {
      const out = await client.send(
        new ReEncryptCommand({
          CiphertextBlob: wrapped,
          SourceEncryptionContext: context,
          DestinationKeyId: kms.keyId,
          DestinationEncryptionContext: context,
        }),
      );
      if (!out.CiphertextBlob || !out.KeyId || !out.SourceKeyId) throw new Error('KMS returned no re-wrapped key');
      return { wrapped: out.CiphertextBlob, previousKeyId: out.SourceKeyId, keyId: out.KeyId };
    },
    destroy: () => client.destroy(),
  };
}
