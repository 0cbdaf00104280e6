import { Migration } from '@mikro-orm/migrations';

/**
 * The reconciler's cases (activities/reconciliation.activities.ts): a booking whose provider, Stripe,
 * Postgres and workflow disagree, open until the disagreement is gone or an operator resolves it.
 * At most one open case per (booking, kind). The watermark remembers where the last full run began.
 */
export class Migration0011ReconciliationCases extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table reconciliation_cases (
        id uuid primary key,
        booking_id uuid not null references bookings(id) on delete cascade,
        kind varchar(30) not null check (kind in ('CAPTURE_WITHOUT_TICKET', 'TICKET_WITHOUT_CAPTURE', 'ORPHAN_AUTHORIZATION',
          'ORPHAN_HOLD', 'SAGA_NEEDS_ATTENTION', 'SAGA_TERMINATED')),
        evidence jsonb not null,
        opened_at timestamptz not null,
        last_seen_at timestamptz not null,
        resolved_at timestamptz null,
        resolution varchar(500) null,
        resolved_by varchar(200) null
      );
      create unique index reconciliation_cases_one_open_idx on reconciliation_cases (booking_id, kind) where resolved_at is null;
      create index reconciliation_cases_booking_idx on reconciliation_cases (booking_id);
      create index reconciliation_cases_opened_idx on reconciliation_cases (opened_at desc, id desc);
      create table reconciliation_watermarks (
        name varchar(40) primary key,
        started_at timestamptz not null
      );
      -- The reconciler's "touched since the last run".
      create index if not exists bookings_updated_at_idx on bookings (updated_at);

      do $$
      begin
        if exists (select from pg_catalog.pg_roles where rolname = 'travelconnect_app') then
          -- Cases are closed, never deleted: what the reconciler found stays on record.
          revoke delete, truncate on reconciliation_cases, reconciliation_watermarks from travelconnect_app;
          grant select, insert, update on reconciliation_cases, reconciliation_watermarks to travelconnect_app;
        end if;
      end;
      $$;
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop table if exists reconciliation_cases;
      drop table if exists reconciliation_watermarks;
      drop index if exists bookings_updated_at_idx;
    `);
  }
}
