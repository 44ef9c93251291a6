import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tokens of emailed links (verification, password reset, email change), stored as hashes. */
export class EmailTokens1733300000000 implements MigrationInterface {
  name = 'EmailTokens1733300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE email_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind varchar(32) NOT NULL,
        token_hash char(64) NOT NULL,
        email varchar(254) NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        retired_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX uq_email_tokens_hash ON email_tokens (token_hash)`);
    await q.query(`CREATE INDEX ix_email_tokens_user_id_kind ON email_tokens (user_id, kind)`);
    await q.query(`CREATE INDEX ix_email_tokens_expires_at ON email_tokens (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS email_tokens`);
  }
}
