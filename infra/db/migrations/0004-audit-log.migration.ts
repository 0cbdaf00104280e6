import { Migration } from '@mikro-orm/migrations';

export class Migration0004AuditLog extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table audit_log (
        seq bigserial primary key,
        occurred_at timestamptz not null,
        actor varchar(200) not null,
        action varchar(100) not null,
        resource varchar(200) not null,
        result varchar(40) not null,
        ip varchar(64) null,
        user_agent varchar(400) null,
        details jsonb not null default '{}',
        prev_mac char(64) not null,
        mac char(64) not null
      );
      create index audit_log_resource_idx on audit_log (resource);
      create function audit_log_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'audit_log is append-only (% refused)', tg_op;
      end;
      $$;
      create trigger audit_log_no_update_delete before update or delete on audit_log
        for each row execute function audit_log_append_only();
      create trigger audit_log_no_truncate before truncate on audit_log
        for each statement execute function audit_log_append_only();
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists audit_log; drop function if exists audit_log_append_only();');
  }
}
