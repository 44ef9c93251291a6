import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Accounts, sessions, refresh tokens, two-factor state, audit trail and rate-limit counters. */
export class InitialSchema1732400000000 implements MigrationInterface {
  name = 'InitialSchema1732400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email varchar(254) NOT NULL,
        username varchar(32),
        password_hash varchar(100) NOT NULL,
        email_verified boolean NOT NULL DEFAULT false,
        roles text[] NOT NULL DEFAULT '{USER}',
        two_factor_enabled boolean NOT NULL DEFAULT false,
        totp_secret_enc text,
        totp_pending_secret_enc text,
        totp_last_step bigint,
        roles_changed_at timestamptz NOT NULL DEFAULT now(),
        password_changed_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ck_users_email_lower CHECK (email = lower(email))
      )`);
    await q.query(`CREATE UNIQUE INDEX uq_users_email ON users (email)`);
    await q.query(`CREATE UNIQUE INDEX uq_users_username ON users (lower(username)) WHERE username IS NOT NULL`);
    // Keyset pagination of the admin list runs on (created_at, id).
    await q.query(`CREATE INDEX ix_users_created_at_id ON users (created_at, id)`);

    await q.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_reason varchar(64),
        user_agent varchar(512),
        ip_address varchar(64)
      )`);
    await q.query(`CREATE INDEX ix_sessions_user_id ON sessions (user_id)`);
    // Every instance polls recent revocations; this keeps that poll an index range scan.
    await q.query(`CREATE INDEX ix_sessions_revoked_at ON sessions (revoked_at) WHERE revoked_at IS NOT NULL`);

    await q.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        token_hash char(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz,
        successor_id uuid,
        successor_enc text
      )`);
    await q.query(`CREATE UNIQUE INDEX uq_refresh_tokens_hash ON refresh_tokens (token_hash)`);
    await q.query(`CREATE INDEX ix_refresh_tokens_session_id ON refresh_tokens (session_id)`);

    await q.query(`
      CREATE TABLE recovery_codes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        code_hash char(64) NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX ix_recovery_codes_user_id ON recovery_codes (user_id)`);

    await q.query(`
      CREATE TABLE two_factor_challenges (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash char(64) NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        expires_at timestamptz NOT NULL,
        consumed_at timestamptz,
        ip_address varchar(64),
        user_agent varchar(512),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX uq_two_factor_challenges_hash ON two_factor_challenges (token_hash)`);

    await q.query(`
      CREATE TABLE audit_events (
        id bigserial PRIMARY KEY,
        type varchar(64) NOT NULL,
        user_id uuid,
        session_id uuid,
        ip_address varchar(64),
        user_agent varchar(512),
        data jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX ix_audit_events_user_id ON audit_events (user_id, created_at)`);
    await q.query(`CREATE INDEX ix_audit_events_type ON audit_events (type, created_at)`);

    // Layout that rate-limiter-flexible's RateLimiterPostgres expects (created here, not at run time).
    await q.query(`
      CREATE TABLE rate_limits (
        key varchar(255) PRIMARY KEY,
        points integer NOT NULL DEFAULT 0,
        expire bigint
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['rate_limits', 'audit_events', 'two_factor_challenges', 'recovery_codes', 'refresh_tokens', 'sessions', 'users']) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
