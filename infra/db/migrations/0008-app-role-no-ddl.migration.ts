import { Migration } from '@mikro-orm/migrations';

/**
 * travelconnect_app may use the schema but never create in it. PostgreSQL 15 and later make
 * schema public without CREATE for PUBLIC; a cluster upgraded from an older version, or a schema
 * made by hand, may still grant it, and the application role would then create tables and
 * functions (a function of the right name could even shadow one of ours for other roles).
 * Only the schema's owner can revoke: when the migrating role is not it, this warns, and the API
 * and worker refuse to start in production until the owner does (infra/db/roles.ts).
 */
export class Migration0008AppRoleNoDdl extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      do $$
      declare
        target text := current_schema();
        app boolean := exists (select from pg_catalog.pg_roles where rolname = 'travelconnect_app');
      begin
        if pg_catalog.pg_has_role(current_user, (select nspowner from pg_catalog.pg_namespace where nspname = target), 'USAGE') then
          execute format('revoke create on schema %I from public', target);
          if app then
            execute format('revoke create on schema %I from travelconnect_app', target);
          end if;
        end if;
        if app then
          -- Not left to PUBLIC's default USAGE, which an operator may have revoked.
          execute format('grant usage on schema %I to travelconnect_app', target);
          if pg_catalog.has_schema_privilege('travelconnect_app', target, 'CREATE') then
            raise warning 'travelconnect_app may create objects in schema %: its owner must revoke CREATE on it from PUBLIC', target;
          end if;
        end if;
      end;
      $$;
    `);
  }

  override async down(): Promise<void> {
    // Nothing to give back: CREATE for PUBLIC is what 0008 exists to keep away.
  }
}
