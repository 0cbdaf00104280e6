import { loadConfigWithSealedSecretsOrExit } from '../sealed-secrets.js';
import { migrateDatabase } from './roles.js';

// `npm run migrate`: applies pending migrations as the owner (MIGRATION_DATABASE_URL); outside
// production it also gives the application role (DATABASE_URL) its password.
const config = await loadConfigWithSealedSecretsOrExit(process.env, 'migration');
await migrateDatabase(config);
