import { Migration } from '@mikro-orm/migrations';

/** Keyset pagination of the admin reads (GET /admin/bookings, /admin/audit) without scanning. */
export class Migration0007AdminIndexes extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create index if not exists bookings_created_id_idx on bookings (created_at desc, id desc);
      create index if not exists bookings_status_created_id_idx on bookings (status, created_at desc, id desc);
      create index if not exists audit_log_actor_idx on audit_log (actor, seq desc);
      create index if not exists audit_log_action_idx on audit_log (action, seq desc);
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop index if exists bookings_created_id_idx; drop index if exists bookings_status_created_id_idx;
      drop index if exists audit_log_actor_idx; drop index if exists audit_log_action_idx;
    `);
  }
}
