import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { loadConfigWithSealedSecretsOrExit } from '../infra/sealed-secrets.js';
import { createLogger } from '../infra/logger.js';
import { createOrm } from '../infra/db/orm.js';
import { checkApplicationRole } from '../infra/db/roles.js';
import { createDataKeyStore } from '../infra/db/data-key.store.js';
import { createFieldCipher } from '../infra/crypto/field-cipher.js';
import { createKmsKeyService } from '../infra/kms/kms.key-service.js';
import { createProviders } from '../infra/providers/registry.js';
import { createTemporalClient } from '../infra/temporal/connection.js';
import { createEncryptionCodec } from '../infra/temporal/encryption-codec.js';
import { encryptedDataConverter } from '../infra/temporal/data-converter.js';
import { createStripeClient } from '../infra/stripe/stripe.gateway.js';
import { createMetrics } from '../infra/metrics.js';
import { createRedis, redisReady } from '../infra/redis.js';
import { countBookingsByStatus } from '../infra/db/booking-stats.js';
import { countOpenCasesByKind } from '../infra/db/reconciliation.store.js';
import { createApp } from './app.js';
import { startTracing } from '../infra/telemetry/tracing.js';

// Composition root of the API process.
const config = await loadConfigWithSealedSecretsOrExit();
const log = createLogger(config, 'api');
for (const warning of config.localFakeWarnings) log.warn(warning);
// Before anything is called: an OTLP exporter when OTEL_EXPORTER_OTLP_ENDPOINT is set, no-op tracers otherwise.
const tracing = startTracing(config.tracing, { service: 'travelconnect-api', log });
const orm = await createOrm(config.database);
// Production refuses to run as the owner or a superuser: the API must not be able to change the schema or the audit log.
await checkApplicationRole(orm, config, log);
const keys = createKmsKeyService(config.kms);
const codec = await createEncryptionCodec(keys, { refusePlaintext: config.isProduction });
const temporal = await createTemporalClient(config.temporal, encryptedDataConverter(codec));
// The codec server only shows payloads to an operator, and every saga's history holds the SDK's patch
// markers, which Core writes without the codec: refused there, the CLI and the Web UI could show no history.
const displayCodec = await createEncryptionCodec(keys);
const redis = createRedis(config.redis, (error) => log.warn({ err: error.message }, 'redis connection error'));
// Without Redis, limits fail open or closed and sessions fall back to Postgres; start anyway, but say so.
if (!(await redisReady(redis))) log.warn('redis is not reachable yet; serving without it until it is');
// The web client, when it has been built (npm run web:build; npm run up builds it).
const webRoot = config.web.distDir ?? fileURLToPath(new URL('../web/dist', import.meta.url));
if (!existsSync(`${webRoot}/index.html`)) log.warn({ webRoot }, 'web client not built: the API serves no pages (npm run web:build)');
const app = createApp({
  codec: displayCodec,
  redis,
  metrics: createMetrics({
    countBookingsByStatus: () => countBookingsByStatus(orm),
    countOpenCasesByKind: () => countOpenCasesByKind(orm),
    cacheMs: config.metrics.cacheMs,
  }),
  config,
  log,
  orm,
  temporal,
  providers: createProviders(config.providers),
  cipher: createFieldCipher({ keys, store: createDataKeyStore(orm) }),
  stripe: createStripeClient(config.stripe),
  webRoot,
});

const server = serve({ fetch: app.fetch, hostname: config.api.host, port: config.api.port }, (info) => {
  log.info({ url: `http://${config.api.host}:${info.port}` }, 'api listening');
});

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // A terminal's Ctrl-C and a supervisor's SIGTERM may both arrive: shut down once.
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down: draining connections');
    server.close(() => {
      void Promise.allSettled([temporal.connection.close(), orm.close(), redis.quit(), tracing.shutdown()]).then(() => {
        keys.destroy();
        process.exit(0);
      });
    });
  });
}
