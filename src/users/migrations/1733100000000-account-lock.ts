import type { MigrationInterface, QueryRunner } from 'typeorm';

/** An administrator's lock, and the run of wrong passwords NIST SP 800-63B caps at 100. */
export class AccountLock1733100000000 implements MigrationInterface {
  name = 'AccountLock1733100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN locked_at timestamptz NULL, ADD COLUMN failed_logins integer NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP COLUMN failed_logins, DROP COLUMN locked_at`);
  }
}
