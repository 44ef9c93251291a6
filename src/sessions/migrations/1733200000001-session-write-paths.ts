import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the one-statement write paths need.
 *
 * Opens of one account take turns: session_open_slot takes the account's open lock (a transaction
 * advisory lock, released at commit) and then counts the account's other live sessions. A VOLATILE
 * function's statements take fresh snapshots, so the count sees every session a racing open
 * committed while this one waited, even when the call is one step of a single statement that
 * opens the session (src/sessions/session-open.ts): racing logins cannot all pass the cap together.
 *
 * A rotation drops the grace copy its predecessor kept (the token whose successor is the one now
 * retired): found by successor_id, instead of scanning every token the session ever had.
 */
export class SessionWritePaths1733200000001 implements MigrationInterface {
  name = 'SessionWritePaths1733200000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION session_open_slot(p_user uuid, p_idle_seconds integer) RETURNS integer
      LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock(24149, hashtext(p_user::text)); -- 24149 = 0x5e55, "sess"
        RETURN (SELECT count(*)::integer FROM sessions
                 WHERE user_id = p_user AND revoked_at IS NULL AND expires_at > now()
                   AND last_used_at + make_interval(secs => p_idle_seconds) > now());
      END $$`);
    await q.query('CREATE INDEX ix_refresh_tokens_successor_id ON refresh_tokens (successor_id) WHERE successor_id IS NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS ix_refresh_tokens_successor_id');
    await q.query('DROP FUNCTION IF EXISTS session_open_slot(uuid, integer)');
  }
}
