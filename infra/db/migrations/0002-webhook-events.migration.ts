import { Migration } from '@mikro-orm/migrations';

export class Migration0002WebhookEvents extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table webhook_events (
        id varchar(255) primary key,
        source varchar(20) not null,
        type varchar(100) not null,
        received_at timestamptz not null default now()
      );
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists webhook_events;');
  }
}
