import { createCipheriv, randomBytes } from 'node:crypto';
import { createFieldCipher } from '../infra/crypto/field-cipher.js';
import { fakeKms } from '../test/support/fake-kms.js';
import { alternate, QUICK, report } from './harness.js';

/**
 * crypto: field encryption through our cipher (cached per-user data key, versioned format)
 * against raw AES-256-GCM on the same bytes with node:crypto. KMS here is an in-process
 * stand-in: the data-key cache means it is asked once per user, which this also counts.
 */
const OPS = Number(process.env.BENCH_OPS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 3 : 5));
const USERS = 100;
const passport = 'X12345678';

const kms = fakeKms();
const store = new Map<string, string>();
const cipher = createFieldCipher({
  keys: kms.service,
  store: {
    load: async (userId) => store.get(userId) ?? null,
    saveIfAbsent: async (userId, wrapped) => {
      if (!store.has(userId)) store.set(userId, wrapped);
      return store.get(userId)!;
    },
  },
});
const rawKey = randomBytes(32);

async function ours(): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < OPS; i += 1) await cipher.encrypt(`user-${i % USERS}`, passport);
  return OPS / ((performance.now() - started) / 1000);
}

async function raw(): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < OPS; i += 1) {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', rawKey, iv);
    c.setAAD(Buffer.from(`v1:user-${i % USERS}`));
    Buffer.concat([c.update(passport, 'utf8'), c.final(), c.getAuthTag()]).toString('base64url');
    await Promise.resolve(); // the same await per operation as the async cipher
  }
  return OPS / ((performance.now() - started) / 1000);
}

const result = await alternate({ rounds: ROUNDS, baseline: raw, subject: ours, figure: (opsPerSecond) => opsPerSecond });
const kmsCalls = kms.calls.generate + kms.calls.decrypt;
report(
  'crypto',
  `ours ${Math.round(result.subject.at(-1)!)} ops/s vs raw ${Math.round(result.baseline.at(-1)!)} ops/s, KMS calls ${kmsCalls} for ${USERS} users`,
  result.ratio,
  {
    settings: { opsPerRound: OPS, rounds: ROUNDS, users: USERS },
    goal: '>= 0.70 of raw; KMS calls per 1000 bookings <= distinct users',
    opsPerSecond: { ours: result.subject, raw: result.baseline },
    kmsCalls,
    ratios: result.ratios,
  },
);
