import { fillfactorMigration } from '../../db/fillfactor';

/**
 * A challenge is written once more after its insert (spent, or a wrong answer counted) while its
 * page is still being filled by other logins' challenges. consumed_at and attempts are not indexed:
 * with room left on the page that update is HOT, no new entry in the table's four indexes.
 */
export const ChallengesFillfactor1764700031300 = fillfactorMigration('ChallengesFillfactor1764700031300', 'two_factor_challenges', 90);
