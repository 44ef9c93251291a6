import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Indexes the periodic cleanup and cascading user deletes need on the growing tables. */
export class CleanupIndexes1732500000000 implements MigrationInterface {
  name = 'CleanupIndexes1732500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX ix_refresh_tokens_retired_at ON refresh_tokens (retired_at) WHERE retired_at IS NOT NULL`);
    await q.query(`CREATE INDEX ix_sessions_expires_at ON sessions (expires_at)`);
    await q.query(`CREATE INDEX ix_two_factor_challenges_expires_at ON two_factor_challenges (expires_at)`);
    await q.query(`CREATE INDEX ix_two_factor_challenges_user_id ON two_factor_challenges (user_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const index of ['ix_two_factor_challenges_user_id', 'ix_two_factor_challenges_expires_at', 'ix_sessions_expires_at', 'ix_refresh_tokens_retired_at']) {
      await q.query(`DROP INDEX IF EXISTS ${index}`);
    }
  }
}
