import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Provider sign-in: pending flows (state, PKCE, nonce), linked provider accounts, and accounts
 * without a password (made by a provider sign-in; a null hash never verifies).
 */
export class OAuth1733400000000 implements MigrationInterface {
  name = 'OAuth1733400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL`);
    await q.query(`
      CREATE TABLE oauth_flows (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        state_hash char(64) NOT NULL,
        kind varchar(8) NOT NULL,
        provider varchar(32) NOT NULL,
        redirect_uri varchar(2048) NOT NULL,
        code_verifier_enc text NOT NULL,
        nonce varchar(64),
        client_code_challenge char(43) NOT NULL,
        user_id uuid,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT oauth_flows_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE UNIQUE INDEX uq_oauth_flows_state_hash ON oauth_flows (state_hash)`);
    await q.query(`CREATE INDEX ix_oauth_flows_expires_at ON oauth_flows (expires_at)`);
    await q.query(`CREATE INDEX ix_oauth_flows_user_id ON oauth_flows (user_id)`);

    await q.query(`
      CREATE TABLE linked_accounts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL,
        provider varchar(32) NOT NULL,
        subject varchar(255) NOT NULL,
        email varchar(254),
        email_verified boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        CONSTRAINT linked_accounts_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
      )`);
    // A provider account belongs to one Bouncer account: this index is what refuses a second link.
    await q.query(`CREATE UNIQUE INDEX uq_linked_accounts_provider_subject ON linked_accounts (provider, subject)`);
    await q.query(`CREATE INDEX ix_linked_accounts_user_id ON linked_accounts (user_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE linked_accounts`);
    await q.query(`DROP TABLE oauth_flows`);
    // Fails while a passwordless account exists: give those a password (or delete them) first.
    await q.query(`ALTER TABLE users ALTER COLUMN password_hash SET NOT NULL`);
  }
}
