import { Migration } from '@mikro-orm/migrations';

/** Accounts, sessions, refresh tokens, single-use tokens and the notification outbox (docs/api.md "Authentication"). */
export class Migration0005Identity extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table users
        add column password_hash text null,
        add column name varchar(100) null,
        add column phone text null,
        add column role varchar(10) not null default 'user' check (role in ('user', 'support', 'admin')),
        add column email_verified_at timestamptz null,
        add column deletion_requested_at timestamptz null,
        add column updated_at timestamptz not null default now();

      create table sessions (
        id uuid primary key,
        user_id uuid not null references users(id),
        created_at timestamptz not null default now(),
        last_seen_at timestamptz not null default now(),
        expires_at timestamptz not null,
        revoked_at timestamptz null,
        revoked_reason varchar(30) null,
        device varchar(200) not null,
        ip varchar(64) not null
      );
      create index sessions_user_idx on sessions (user_id) where revoked_at is null;
      create index sessions_expires_idx on sessions (expires_at);

      -- Only hashes: a database read gives no usable token.
      create table refresh_tokens (
        token_hash char(64) primary key,
        session_id uuid not null references sessions(id) on delete cascade,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        spent_at timestamptz null
      );
      create index refresh_tokens_session_idx on refresh_tokens (session_id);

      create table one_time_tokens (
        token_hash char(64) primary key,
        user_id uuid not null references users(id),
        purpose varchar(20) not null check (purpose in ('verify-email', 'password-reset')),
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        used_at timestamptz null
      );
      create index one_time_tokens_user_idx on one_time_tokens (user_id, purpose);
      create index one_time_tokens_expires_idx on one_time_tokens (expires_at);

      -- Mail to send; the body (which may carry a link token) is cleared once an SMTP server took it.
      create table outbox (
        id uuid primary key,
        recipient varchar(255) not null,
        template varchar(40) not null,
        subject varchar(200) not null,
        body text null,
        created_at timestamptz not null default now(),
        delivered_at timestamptz null,
        transport varchar(10) null,
        attempts integer not null default 0
      );
      create index outbox_recipient_idx on outbox (recipient, created_at desc);
      create index outbox_pending_idx on outbox (created_at) where delivered_at is null;
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop table if exists outbox; drop table if exists one_time_tokens;
      drop table if exists refresh_tokens; drop table if exists sessions;
      alter table users drop column password_hash, drop column name, drop column phone, drop column role,
        drop column email_verified_at, drop column deletion_requested_at, drop column updated_at;
    `);
  }
}
