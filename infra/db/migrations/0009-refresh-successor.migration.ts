import { Migration } from '@mikro-orm/migrations';

/**
 * The refresh grace (two tabs refreshing at once): a spent refresh token names its successor by
 * hash and keeps it sealed under a key only the spent token yields (infra/auth/refresh-successor.ts).
 */
export class Migration0009RefreshSuccessor extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table refresh_tokens
        add column successor_hash char(64) null,
        add column successor_sealed text null;
    `);
  }

  override async down(): Promise<void> {
    this.addSql('alter table refresh_tokens drop column successor_hash, drop column successor_sealed;');
  }
}
