import { loadConfigWithSealedSecretsOrExit } from '../sealed-secrets.js';
import { createOrm, migrate } from './orm.js';

// `npm run migrate`: applies pending migrations to DATABASE_URL.
const config = await loadConfigWithSealedSecretsOrExit();
const orm = await createOrm(config.database);
try {
  await migrate(orm);
} finally {
  await orm.close();
}
