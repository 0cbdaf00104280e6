import { Migration } from '@mikro-orm/migrations';

export class Migration0001Initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table users (
        id uuid primary key,
        email varchar(255) null unique,
        wrapped_data_key text null,
        created_at timestamptz not null default now()
      );
      create table bookings (
        id uuid primary key,
        user_id uuid not null references users(id),
        workflow_id varchar(200) not null unique,
        idempotency_key uuid not null,
        request_hash varchar(64) not null,
        status varchar(20) not null,
        total_minor integer not null check (total_minor >= 0),
        currency varchar(3) not null,
        passengers jsonb not null,
        contact_email varchar(255) not null,
        contact_phone text not null,
        notes text null,
        failure_code varchar(40) null,
        failure_message text null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        constraint bookings_user_idempotency_key_unique unique (user_id, idempotency_key)
      );
      create index bookings_user_created_idx on bookings (user_id, created_at desc);
      create index bookings_status_idx on bookings (status);
      create table booking_items (
        id uuid primary key,
        booking_id uuid not null references bookings(id) on delete cascade,
        offer_id varchar(200) not null,
        provider varchar(40) not null,
        kind varchar(10) not null,
        price_minor integer not null check (price_minor >= 0),
        currency varchar(3) not null,
        hold_id varchar(100) null,
        hold_expires_at timestamptz null,
        state varchar(20) not null,
        confirmation_code varchar(40) null,
        constraint booking_items_booking_offer_unique unique (booking_id, offer_id)
      );
      create table payments (
        id uuid primary key,
        booking_id uuid not null references bookings(id) on delete cascade,
        payment_intent_id varchar(100) not null unique,
        status varchar(30) not null,
        amount_minor integer not null check (amount_minor >= 0),
        currency varchar(3) not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
      create index payments_booking_idx on payments (booking_id);
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists payments, booking_items, bookings, users cascade;');
  }
}
