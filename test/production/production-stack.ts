import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadConfig, type Config } from '../../infra/config.js';
import { createOrm, type Orm } from '../../infra/db/orm.js';
import { localPki, type IssuedCert, type LocalPki } from '../../dev/cluster/pki.js';
import { startTemporalCluster, type TemporalCluster } from '../../dev/cluster/temporal-cluster.js';
import { freePort } from '../../dev/process.js';
import { createKmsKeyService, type KmsKeyService } from '../../infra/kms/kms.key-service.js';
import { createStripeClient } from '../../infra/stripe/stripe.gateway.js';
import { createTemporalClient } from '../../infra/temporal/connection.js';
import { createEncryptionCodec } from '../../infra/temporal/encryption-codec.js';
import { encryptedDataConverter } from '../../infra/temporal/data-converter.js';
import { createWorkerPool, type WorkerPool } from '../chaos/worker-pool.js';
import { baseEnv, startOwnedProcess, type OwnedProcess } from './owned-process.js';
import { gitBuildId, operatorCli, setCurrentVersion } from './worker-deployment.js';
import { startSmtpCatcher, type SmtpCatcher } from './smtp-catcher.js';
import { startTlsPostgres, type TlsPostgres } from './tls-postgres.js';
import { startTlsRedis, type TlsRedis } from './tls-redis.js';

export const PRODUCTION_NAMESPACE = 'travelconnect-production';
const secret = (bytes = 24) => randomBytes(bytes).toString('base64url');

/**
 * The production profile: everything a deployment has, on this machine. A CA (openssl) issues every
 * certificate; Postgres and Redis of its own speak TLS only; the Temporal cluster (two history and two
 * matching processes) is reached over mTLS; two API and two worker processes run with
 * NODE_ENV=production, every secret mounted as a file, as the least-privileged role; the workers as a
 * Worker Deployment Version (the commit), made current as a deploy would; the Stripe fake
 * and local-kms are let in only by the loud test override TC_ALLOW_LOCAL_FAKES=stripe,kms.
 */
export async function startProductionStack(root: string, dir: string, log: (line: string) => void) {
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => log(`stop failed: ${String(error)}`));
  };
  try {
    return await compose(root, dir, log, stops, stopAll);
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function compose(root: string, dir: string, log: (line: string) => void, stops: Array<() => Promise<void>>, stopAll: () => Promise<void>) {
  // The postgres OS user must reach its own directory below this one.
  chmodSync(dir, 0o711);
  const logDir = join(dir, 'logs');
  const secretsDir = join(dir, 'secrets');
  for (const sub of [logDir, join(dir, 'redis'), join(dir, 'kms'), join(dir, 'postgres')]) mkdirSync(sub, { recursive: true });
  mkdirSync(secretsDir, { mode: 0o700 });
  const pki: LocalPki = await localPki(join(dir, 'pki'));
  const began = Date.now();
  const step = (what: string) => log(`${what} (${((Date.now() - began) / 1000).toFixed(0)} s)`);

  const passwords = { owner: secret(), app: secret(), temporal: secret(), redis: secret() };
  const postgres: TlsPostgres = await startTlsPostgres(join(dir, 'postgres'), pki, await freePort());
  stops.push(() => postgres.stop());
  // As the operator, over the superuser's socket: the owner (may create the application role) and Temporal's role.
  await postgres.superuser([
    `create role travelconnect login createrole password '${passwords.owner}';`,
    `create role temporal login createdb password '${passwords.temporal}';`,
    'create database travelconnect owner travelconnect;',
  ].join('\n'));
  step('postgres (TLS only) up');

  const redis: TlsRedis = await startTlsRedis(join(dir, 'redis'), pki, await freePort(), 'travelconnect', passwords.redis);
  stops.push(() => redis.stop());
  step('redis (TLS only, ACL user) up');

  const cluster: TemporalCluster = await startTemporalCluster({
    root,
    dir: join(dir, 'temporal'),
    pki,
    store: { host: 'localhost', port: postgres.port, user: 'temporal', password: passwords.temporal, tls: { caFile: pki.caFile, serverName: 'localhost' } },
    shards: 4,
    instances: { history: 2, matching: 2 },
    ports: 'free',
    namespaces: [PRODUCTION_NAMESPACE],
    log,
  });
  stops.push(() => cluster.stop());
  step('temporal cluster up');

  const smtp: SmtpCatcher = await startSmtpCatcher(await pki.issue('smtp', ['localhost']));
  stops.push(() => smtp.stop());
  const fakes = await startFakes(root, dir, logDir, stops);
  step('local-kms, Stripe fake, sandbox provider and SMTP catcher up');

  const mount = (name: string, value: string) => {
    const path = join(secretsDir, name);
    writeFileSync(path, `${value}\n`, { mode: 0o600 });
    return path;
  };
  const appDatabaseUrl = postgres.url('travelconnect_app', passwords.app, 'travelconnect');
  const ownerDatabaseUrl = postgres.url('travelconnect', passwords.owner, 'travelconnect');
  const plain = {
    AUDIT_HMAC_KEY: secret(32),
    STRIPE_SECRET_KEY: `sk_test_${secret(16)}`,
    STRIPE_WEBHOOK_SECRET: `whsec_${secret(24)}`,
    METRICS_TOKEN: secret(24),
  };
  const env: NodeJS.ProcessEnv = {
    ...baseEnv(),
    NODE_ENV: 'production',
    SECRETS_FILE: '',
    LOG_LEVEL: 'info',
    DATABASE_URL_FILE: mount('database-url', appDatabaseUrl),
    DATABASE_SSL_CA_FILE: pki.caFile,
    REDIS_URL_FILE: mount('redis-url', redis.url),
    REDIS_TLS_CA_FILE: pki.caFile,
    TEMPORAL_ADDRESS: cluster.address,
    TEMPORAL_NAMESPACE: PRODUCTION_NAMESPACE,
    TEMPORAL_TLS: 'true',
    TEMPORAL_TLS_CA_FILE: cluster.caFile,
    TEMPORAL_TLS_SERVER_NAME: cluster.serverName,
    TEMPORAL_TLS_CERT_FILE: cluster.client.certFile,
    TEMPORAL_TLS_KEY_FILE: cluster.client.keyFile,
    // The loud test override: production refuses both fakes without it, and logs a warning with it.
    TC_ALLOW_LOCAL_FAKES: 'stripe,kms,providers,captcha',
    STRIPE_API_URL: fakes.stripeUrl,
    STRIPE_SECRET_KEY_FILE: mount('stripe-secret-key', plain.STRIPE_SECRET_KEY),
    STRIPE_WEBHOOK_SECRET_FILE: mount('stripe-webhook-secret', plain.STRIPE_WEBHOOK_SECRET),
    STRIPE_PUBLISHABLE_KEY: `pk_test_${secret(16).replaceAll('-', '_')}`,
    KMS_ENDPOINT: fakes.kmsUrl,
    SANDBOX_PROVIDER_URL: fakes.sandboxUrl,
    HOTEL_PROVIDER_URL: `${fakes.sandboxUrl}/hotels`,
    CAPTCHA_VERIFY_URL: `${fakes.sandboxUrl}/captcha/siteverify`,
    CAPTCHA_SECRET_FILE: mount('captcha-secret', fakes.captchaSecret),
    AUDIT_HMAC_KEY_FILE: mount('audit-hmac-key', plain.AUDIT_HMAC_KEY),
    JWT_SIGNING_KEYS_FILE: mount('jwt-signing-keys', `prod-1:${randomBytes(32).toString('base64url')}`),
    AUTH_HMAC_KEY_FILE: mount('auth-hmac-key', secret(32)),
    SMTP_URL_FILE: mount('smtp-url', smtp.url),
    // Each client trusts the CA its own setting names, and nothing machine-wide (no NODE_EXTRA_CA_CERTS).
    SMTP_TLS_CA_FILE: pki.caFile,
    METRICS_TOKEN_FILE: mount('metrics-token', plain.METRICS_TOKEN),
    CORS_ORIGINS: 'https://app.travelconnect.example',
    TEMPORAL_UI_URL: 'https://temporal-ui.travelconnect.example',
    PUBLIC_APP_URL: 'https://app.travelconnect.example',
    // Two API replicas behind a load balancer on loopback: its X-Forwarded-For names each traveller.
    BEHIND_PROXY: 'true',
    TRUSTED_PROXIES: '127.0.0.1',
    WORKER_METRICS_PORT: '0',
    // The workers poll as this Worker Deployment Version, the commit as the image would bake it.
    WORKER_BUILD_ID: gitBuildId(root),
    // A failed saga looks once more for late holds before it ends: seconds here, not production's two minutes.
    LATE_SUCCESS_SWEEP_MS: '15000',
  };

  // The migration job: the owner's URL and nothing else of the application's secrets.
  const migration = spawnSync('npm', ['run', '--silent', 'migrate'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...baseEnv(), NODE_ENV: 'production', SECRETS_FILE: '', MIGRATION_DATABASE_URL_FILE: mount('migration-database-url', ownerDatabaseUrl), DATABASE_SSL_CA_FILE: pki.caFile },
  });
  if (migration.status !== 0) throw new Error(`npm run migrate failed (${migration.status}): ${migration.stderr.slice(-2000)}`);
  // In production the operator, not the migration, sets the application role's password.
  await postgres.superuser(`alter role travelconnect_app with login password '${passwords.app}';`);
  step('migrated as the owner; travelconnect_app has its password');

  const apis: OwnedProcess[] = [];
  const apiUrls: string[] = [];
  for (const index of [1, 2]) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    apis.push(
      await startOwnedProcess({
        name: `api-${index}`,
        command: process.execPath,
        args: ['--import', 'tsx', 'api/server.ts'],
        env: { ...env, PORT: String(port), API_HOST: '127.0.0.1' },
        cwd: root,
        logDir,
        ready: async () => (await fetch(`${url}/readyz`).catch(() => null))?.status === 200,
        timeoutMs: 120_000,
      }),
    );
    stops.push(() => apis[index - 1]!.stop());
    apiUrls.push(url);
  }
  const workers: WorkerPool = createWorkerPool({ env, cwd: root, logFile: join(logDir, 'workers.log'), size: 2, log });
  stops.push(() => workers.stopAll());
  workers.fill();
  await workers.ready(180_000);
  step('two API and two worker processes up (NODE_ENV=production)');
  // The deploy step after the workers of a build poll (README "Deploying workflow changes"): until a
  // version is current, new workflows wait for an unversioned worker, and production has none.
  await setCurrentVersion(await operatorCli(root, cluster, PRODUCTION_NAMESPACE), env.WORKER_BUILD_ID!);
  step(`build ${env.WORKER_BUILD_ID} is the current version of the worker deployment`);

  // The Stripe fake delivers webhooks to registered endpoints: API 1 stands for the load balancer.
  const registered = await fetch(`${fakes.stripeUrl}/_config/webhooks/production`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${apiUrls[0]}/api/v1/webhooks/stripe`, secret: plain.STRIPE_WEBHOOK_SECRET }),
  });
  if (!registered.ok) throw new Error(`registering the webhook at the Stripe fake failed: ${registered.status}`);

  const observer = await observe(env, { appDatabaseUrl, ownerDatabaseUrl, stripeSecretKey: plain.STRIPE_SECRET_KEY, auditKey: plain.AUDIT_HMAC_KEY, redisUrl: redis.url });
  stops.push(observer.close);
  return { pki, postgres, redis, cluster, smtp, apiUrls, apis, workers, env, observer, ownerDatabaseUrl, stop: stopAll };
}

/** The test's own view (as the operator would look): Postgres as the app role, Temporal with the codec, the Stripe fake, the provider. */
async function observe(env: NodeJS.ProcessEnv, given: { appDatabaseUrl: string; ownerDatabaseUrl: string; stripeSecretKey: string; auditKey: string; redisUrl: string }) {
  const config: Config = loadConfig({
    ...env,
    NODE_ENV: 'test',
    DATABASE_URL: given.appDatabaseUrl,
    REDIS_URL: given.redisUrl,
    STRIPE_SECRET_KEY: given.stripeSecretKey,
    AUDIT_HMAC_KEY: given.auditKey,
    TC_ALLOW_LOCAL_FAKES: undefined,
    DATABASE_URL_FILE: undefined, REDIS_URL_FILE: undefined, STRIPE_SECRET_KEY_FILE: undefined, STRIPE_WEBHOOK_SECRET_FILE: undefined,
    AUDIT_HMAC_KEY_FILE: undefined, JWT_SIGNING_KEYS_FILE: undefined, AUTH_HMAC_KEY_FILE: undefined, CAPTCHA_SECRET_FILE: undefined,
    SMTP_URL_FILE: undefined, METRICS_TOKEN_FILE: undefined,
  });
  const orm: Orm = await createOrm(config.database);
  const owner: Orm = await createOrm({ ...config.database, url: given.ownerDatabaseUrl });
  const keys: KmsKeyService = createKmsKeyService(config.kms);
  const temporal = await createTemporalClient(config.temporal, encryptedDataConverter(await createEncryptionCodec(keys)));
  return {
    config,
    orm,
    /** The owner's connection, for what the README tells an operator to do in psql (make the first admin). */
    owner,
    temporal,
    stripe: createStripeClient(config.stripe),
    sandboxUrl: config.providers.sandboxUrl,
    async close() {
      await temporal.connection.close();
      await orm.close();
      await owner.close();
      keys.destroy();
    },
  };
}

/** local-kms, the Stripe fake (with its idempotency shim) and the sandbox provider, each on a free port. */
async function startFakes(root: string, dir: string, logDir: string, stops: Array<() => Promise<void>>) {
  const [kmsPort, stripePort, sandboxPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const kmsUrl = `http://127.0.0.1:${kmsPort}`;
  const stripeUrl = `http://127.0.0.1:${stripePort}`;
  const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
  const captchaSecret = secret();
  const settled = await Promise.allSettled([
    startOwnedProcess({
      name: 'local-kms',
      command: join(root, '.tools', 'bin', 'local-kms'),
      args: [],
      env: { ...baseEnv(), PORT: String(kmsPort), KMS_REGION: 'eu-west-1', KMS_ACCOUNT_ID: '111122223333', KMS_DATA_PATH: join(dir, 'kms'), KMS_SEED_PATH: join(root, 'dev', 'kms', 'seed.yaml') },
      cwd: root,
      logDir,
      ready: async () => (await fetch(kmsUrl, { method: 'POST' }).catch(() => null)) !== null,
    }),
    startOwnedProcess({
      name: 'stripe',
      command: join(root, '.tools', 'venv', 'bin', 'python'),
      args: [join(root, 'dev', 'stripe', 'stripe_fake.py'), '--port', String(stripePort), '--store', join(dir, 'stripe.pickle')],
      env: baseEnv(),
      cwd: root,
      logDir,
      ready: async () => (await fetch(`${stripeUrl}/_tc/requests`).catch(() => null))?.status === 200,
    }),
    startOwnedProcess({
      name: 'sandbox',
      command: process.execPath,
      args: ['--import', 'tsx', join(root, 'dev', 'sandbox', 'server.ts')],
      // The supplier's own process, not ours: a little latency keeps sagas in flight while services die.
      env: { ...baseEnv(), NODE_ENV: 'development', SANDBOX_PROVIDER_PORT: String(sandboxPort), SANDBOX_LATENCY_MS: '700', CAPTCHA_SECRET: captchaSecret, LOG_LEVEL: 'warn' },
      cwd: root,
      logDir,
      ready: async () => (await fetch(`${sandboxUrl}/healthz`).catch(() => null))?.status === 200,
    }),
  ]);
  for (const result of settled) if (result.status === 'fulfilled') stops.push(() => result.value.stop());
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return { kmsUrl, stripeUrl, sandboxUrl, captchaSecret };
}

export type ProductionStack = Awaited<ReturnType<typeof startProductionStack>>;
export type { IssuedCert };
