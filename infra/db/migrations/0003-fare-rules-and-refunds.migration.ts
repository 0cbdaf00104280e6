import { Migration } from '@mikro-orm/migrations';

export class Migration0003FareRulesAndRefunds extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table booking_items add column fare_rule varchar(20) not null default 'SAVER';
      alter table payments add column refunded_minor integer not null default 0 check (refunded_minor >= 0);
    `);
  }

  override async down(): Promise<void> {
    this.addSql('alter table booking_items drop column fare_rule; alter table payments drop column refunded_minor;');
  }
}
