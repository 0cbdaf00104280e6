import { randomUUID } from 'node:crypto';
import { CreateAliasCommand, CreateKeyCommand, DecryptCommand, DisableKeyCommand, KMSClient, UpdateAliasCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFieldCipher, dataKeyContext } from '../../infra/crypto/field-cipher.js';
import { rewrapDataKeys } from '../../infra/kms/rewrap-data-keys.js';
import { createDataKeyStore } from '../../infra/db/data-key.store.js';
import { User } from '../../infra/db/entities.js';
import { createKmsKeyService } from '../../infra/kms/kms.key-service.js';
import { startStack, type Stack } from '../support/stack.js';

// SECURITY.md §18 and §20 against local-kms: contexts bind keys to users; rotation and re-wrap.
let stack: Stack;
let admin: KMSClient;
beforeAll(async () => {
  stack = await startStack();
  admin = new KMSClient({ region: stack.config.kms.region, endpoint: stack.config.kms.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});
afterAll(async () => {
  admin?.destroy();
  await stack?.stop();
});

const newKey = async () => (await admin.send(new CreateKeyCommand({ Description: 'rotation test' }))).KeyMetadata!.Arn!;

describe('KMS data keys', () => {
  it('refuses to decrypt under another user\'s encryption context', async () => {
    const cipher = createFieldCipher({ keys: stack.keys, store: createDataKeyStore(stack.orm) });
    const [alice, bob] = [randomUUID(), randomUUID()];
    const ciphertext = await cipher.encrypt(alice, 'X1234567');
    await cipher.encrypt(bob, 'anything'); // Bob has a key of his own
    await expect(cipher.decrypt(bob, ciphertext)).rejects.toThrow();
    // Alice's wrapped key opened with Bob's context: KMS itself says no.
    const wrapped = (await stack.orm.em.fork().findOneOrFail(User, { id: alice })).wrappedDataKey!;
    await expect(stack.keys.decryptDataKey(Buffer.from(wrapped, 'base64'), dataKeyContext(bob))).rejects.toThrow();
    expect(await cipher.decrypt(alice, ciphertext)).toBe('X1234567');
  });

  it('keeps old rows readable after a rotation, and the re-wrap job moves every data key to the new key', async () => {
    const alias = `alias/tc-rotation-${randomUUID().slice(0, 8)}`;
    const oldKey = await newKey();
    await admin.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: oldKey }));
    const kms = createKmsKeyService({ ...stack.config.kms, keyId: alias });
    const store = createDataKeyStore(stack.orm);
    const users = [randomUUID(), randomUUID(), randomUUID()];
    const ciphertexts = await Promise.all(users.map((u) => createFieldCipher({ keys: kms, store }).encrypt(u, `P${u.slice(0, 8)}`)));
    const wrappedBy = async (userId: string) => {
      const wrapped = (await stack.orm.em.fork().findOneOrFail(User, { id: userId })).wrappedDataKey!;
      return (await admin.send(new DecryptCommand({ CiphertextBlob: Buffer.from(wrapped, 'base64'), EncryptionContext: dataKeyContext(userId) }))).KeyId;
    };
    expect(await wrappedBy(users[0]!)).toBe(oldKey);

    // Rotation: the alias now names a new key; nothing is re-encrypted yet, old rows still open.
    const rotatedKey = await newKey();
    await admin.send(new UpdateAliasCommand({ AliasName: alias, TargetKeyId: rotatedKey }));
    const fresh = () => createFieldCipher({ keys: kms, store }); // no cached keys
    for (const [i, u] of users.entries()) expect(await fresh().decrypt(u, ciphertexts[i]!)).toBe(`P${u.slice(0, 8)}`);

    const report = await rewrapDataKeys(stack.orm, kms, { batchSize: 2 });
    expect(report.rewrapped).toBeGreaterThanOrEqual(users.length);
    for (const u of users) expect(await wrappedBy(u)).toBe(rotatedKey);
    // Again: nothing left to move.
    const again = await rewrapDataKeys(stack.orm, kms, { batchSize: 2 });
    expect(again.rewrapped).toBe(0);

    // The old key can go now: every row still decrypts.
    await admin.send(new DisableKeyCommand({ KeyId: oldKey }));
    for (const [i, u] of users.entries()) expect(await fresh().decrypt(u, ciphertexts[i]!)).toBe(`P${u.slice(0, 8)}`);
    kms.destroy();
  });
});
