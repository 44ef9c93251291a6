import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A challenge is written once more after its insert (spent, or a wrong answer counted) while its
 * page is still being filled by other logins' challenges. consumed_at and attempts are not indexed:
 * with room left on the page that update is HOT, no new entry in the table's four indexes.
 */
export class ChallengesFillfactor1764700031300 implements MigrationInterface {
  name = 'ChallengesFillfactor1764700031300';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE two_factor_challenges SET (fillfactor = 90)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE two_factor_challenges RESET (fillfactor)');
  }
}
