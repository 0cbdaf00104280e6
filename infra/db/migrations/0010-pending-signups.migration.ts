import { Migration } from '@mikro-orm/migrations';

/**
 * A signup's credentials wait on its verification link, not on the account: whoever signs up for an
 * address first can no longer leave a password there for its owner's confirmation to switch on.
 */
export class Migration0010PendingSignups extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table one_time_tokens
        add column pending_password_hash text null,
        add column pending_name varchar(100) null,
        add column pending_phone text null;
    `);
  }

  override async down(): Promise<void> {
    this.addSql('alter table one_time_tokens drop column pending_password_hash, drop column pending_name, drop column pending_phone;');
  }
}
