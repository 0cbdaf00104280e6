import { Migration } from '@mikro-orm/migrations';

/**
 * Signed checkpoints of the audit chain, a trim that only removes checkpointed rows past
 * retention, and travelconnect_app: the role the application should run as, which may
 * read and append audit rows but never change or remove them (SECURITY.md §23, §28).
 */
export class Migration0006AuditCheckpoints extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- kind 'checkpoint': the chain held row seq with this mac, and row_count rows from the first.
      -- kind 'trim': rows up to seq (row_count of them) were trimmed; seq's mac is the next row's prev_mac.
      -- Each row signs its fields and the previous row's signature (infra/audit/audit-checkpoints.ts).
      create table audit_checkpoints (
        id bigserial primary key,
        kind varchar(10) not null check (kind in ('checkpoint', 'trim')),
        seq bigint not null,
        mac char(64) not null,
        row_count bigint not null,
        created_at timestamptz not null,
        prev_signature char(64) not null,
        signature char(64) not null
      );

      -- The only way past this trigger is audit_log_trim below. It is SECURITY DEFINER, so inside it
      -- current_user is the owner of these tables, and it turns audit.trim on for its own deletes.
      -- Any session can set a custom setting such as audit.trim, so the setting alone opens nothing:
      -- it counts only when current_user owns the table, i.e. for a role that could disable this
      -- trigger anyway. A superuser who is not the owner is refused too, and the application role
      -- never gets this far: it holds no UPDATE, DELETE or TRUNCATE grant.
      -- Catalog names are qualified so a temporary table cannot stand in for pg_class.
      create or replace function audit_log_append_only() returns trigger language plpgsql as $$
      begin
        if tg_op = 'DELETE' and tg_table_name = 'audit_log'
           and pg_catalog.current_setting('audit.trim', true) = 'on'
           and current_user = (select pg_catalog.pg_get_userbyid(c.relowner) from pg_catalog.pg_class c where c.oid = tg_relid) then
          return old;
        end if;
        raise exception '% is append-only (% refused)', tg_table_name, tg_op;
      end;
      $$;
      create trigger audit_checkpoints_no_update_delete before update or delete on audit_checkpoints
        for each row execute function audit_log_append_only();
      create trigger audit_checkpoints_no_truncate before truncate on audit_checkpoints
        for each statement execute function audit_log_append_only();

      -- The youngest rows a trim may remove. Owned by the migrating role: only it can replace the
      -- function to change the period; the application cannot. (A custom setting would do, but a
      -- non-superuser may not attach one to a function.)
      create function audit_min_trim_age() returns interval language sql stable as $$ select interval '18 months' $$;

      -- Deletes the head of the chain up to the newest audit_checkpoints row, which must be a trim
      -- marker the caller signed in this transaction (trimAudit does both). Refuses unless every
      -- row it removes is older than before, an earlier checkpoint covers the marker, the marker
      -- names a row with its mac, and before is itself older than audit_min_trim_age(): a
      -- compromised application cannot trim recent rows.
      create function audit_log_trim(before timestamptz, max_rows integer) returns integer
        language plpgsql security definer
      as $$
      declare
        marker audit_checkpoints;
        doomed bigint;
        newest timestamptz;
      begin
        if before > now() - audit_min_trim_age() then
          raise exception 'audit_log_trim: % is within the audit retention period (%)', before, audit_min_trim_age();
        end if;
        perform pg_advisory_xact_lock(7470001); -- appendAudit's lock: no row joins the chain meanwhile
        select * into marker from audit_checkpoints order by id desc limit 1;
        if not found or marker.kind <> 'trim' then
          raise exception 'audit_log_trim: no trim marker recorded (use trimAudit)';
        end if;
        if not exists (select from audit_checkpoints c where c.kind = 'checkpoint' and c.seq >= marker.seq and c.id < marker.id) then
          raise exception 'audit_log_trim: no checkpoint covers seq %', marker.seq;
        end if;
        select count(*), max(occurred_at) into doomed, newest from audit_log where seq <= marker.seq;
        if doomed = 0 then
          return 0;
        end if;
        if doomed > max_rows then
          raise exception 'audit_log_trim: % rows up to seq % exceed max_rows %', doomed, marker.seq, max_rows;
        end if;
        if newest >= before then
          raise exception 'audit_log_trim: rows up to seq % are not all older than %', marker.seq, before;
        end if;
        if not exists (select from audit_log where seq = marker.seq and mac = marker.mac) then
          raise exception 'audit_log_trim: the trim marker does not name a row of the chain';
        end if;
        -- Local to the transaction, and undone with it (or with a savepoint) if anything fails.
        perform set_config('audit.trim', 'on', true);
        delete from audit_log where seq <= marker.seq;
        perform set_config('audit.trim', 'off', true);
        return doomed;
      end;
      $$;
      revoke all on function audit_log_trim(timestamptz, integer) from public;

      do $$
      begin
        -- A SECURITY DEFINER function must not resolve names through a schema its caller controls.
        execute format('alter function audit_log_trim(timestamptz, integer) set search_path = %I, pg_temp', current_schema());

        if not exists (select from pg_roles where rolname = 'travelconnect_app') then
          if not exists (select from pg_roles where rolname = current_user and (rolsuper or rolcreaterole)) then
            raise notice 'travelconnect_app not created: % lacks CREATEROLE. Create it (LOGIN) and run the grants of migration 0006.', current_user;
            return;
          end if;
          begin
            create role travelconnect_app login;
          exception when duplicate_object or unique_violation then
            null; -- another database's migration created it at the same moment
          end;
        end if;

        -- Everything the application does, minus changing history. Tables created by later
        -- migrations get the same through the default privileges; an append-only one must revoke.
        execute format('grant select, insert, update, delete on all tables in schema %I to travelconnect_app', current_schema());
        execute format('grant usage, select on all sequences in schema %I to travelconnect_app', current_schema());
        execute format('alter default privileges in schema %I grant select, insert, update, delete on tables to travelconnect_app', current_schema());
        execute format('alter default privileges in schema %I grant usage, select on sequences to travelconnect_app', current_schema());
        revoke update, delete, truncate on audit_log, audit_checkpoints from travelconnect_app, public;
        if to_regclass('mikro_orm_migrations') is not null then
          revoke insert, update, delete on mikro_orm_migrations from travelconnect_app;
        end if;
        grant execute on function audit_log_trim(timestamptz, integer) to travelconnect_app;
      end;
      $$;
    `);
  }

  override async down(): Promise<void> {
    // travelconnect_app belongs to the cluster, not this database: it stays, with its grants on older tables.
    this.addSql(`
      drop function if exists audit_log_trim(timestamptz, integer);
      drop function if exists audit_min_trim_age();
      drop table if exists audit_checkpoints;
      create or replace function audit_log_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'audit_log is append-only (% refused)', tg_op;
      end;
      $$;
    `);
  }
}
