import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The transactional outbox of mails (verification, reset and email-change links, security notices). */
export class MailOutbox1733200000000 implements MigrationInterface {
  name = 'MailOutbox1733200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mail_outbox (
        id uuid PRIMARY KEY,
        kind varchar(64) NOT NULL,
        recipient varchar(254) NOT NULL,
        user_id uuid REFERENCES users(id) ON DELETE CASCADE,
        data jsonb NOT NULL DEFAULT '{}',
        token_enc text,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error varchar(512),
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz,
        failed_at timestamptz
      )`);
    await q.query(`CREATE INDEX ix_mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL`);
    await q.query(`CREATE INDEX ix_mail_outbox_sent_at ON mail_outbox (sent_at) WHERE sent_at IS NOT NULL`);
    await q.query(`CREATE INDEX ix_mail_outbox_failed_at ON mail_outbox (failed_at) WHERE failed_at IS NOT NULL`);
    await q.query(`CREATE INDEX ix_mail_outbox_user_id ON mail_outbox (user_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS mail_outbox`);
  }
}
