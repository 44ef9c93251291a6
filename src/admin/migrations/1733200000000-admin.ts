import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Keyset indexes of the audit log: every page is "newest first, after (created_at, id)", with or
 * without a user or type filter, so each filter has an index ending in (created_at, id) and a page
 * is a short backward index scan at any table size. The older (user_id, created_at) and
 * (type, created_at) indexes are prefixes of the new ones and go.
 *
 * And a guard for the lock: a session inserted for a locked account is born revoked. A sign-in
 * that read the account just before an administrator locked it would otherwise open a session
 * after the lock's revocations; the locking read waits for the lock's transaction and sees it.
 */
export class Admin1733200000000 implements MigrationInterface {
  name = 'Admin1733200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX ix_audit_events_keyset ON audit_events (created_at, id)`);
    await q.query(`CREATE INDEX ix_audit_events_user_keyset ON audit_events (user_id, created_at, id)`);
    await q.query(`CREATE INDEX ix_audit_events_type_keyset ON audit_events (type, created_at, id)`);
    await q.query(`DROP INDEX ix_audit_events_user_id`);
    await q.query(`DROP INDEX ix_audit_events_type`);
    await q.query(`
      CREATE FUNCTION sessions_of_locked_accounts_are_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (SELECT locked_at FROM users WHERE id = NEW.user_id FOR KEY SHARE) IS NOT NULL THEN
          NEW.revoked_at := COALESCE(NEW.revoked_at, now());
          NEW.revoked_reason := COALESCE(NEW.revoked_reason, 'account_locked');
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER tr_sessions_locked_account BEFORE INSERT ON sessions
        FOR EACH ROW EXECUTE FUNCTION sessions_of_locked_accounts_are_revoked()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER tr_sessions_locked_account ON sessions`);
    await q.query(`DROP FUNCTION sessions_of_locked_accounts_are_revoked()`);
    await q.query(`CREATE INDEX ix_audit_events_type ON audit_events (type, created_at)`);
    await q.query(`CREATE INDEX ix_audit_events_user_id ON audit_events (user_id, created_at)`);
    await q.query(`DROP INDEX ix_audit_events_type_keyset`);
    await q.query(`DROP INDEX ix_audit_events_user_keyset`);
    await q.query(`DROP INDEX ix_audit_events_keyset`);
  }
}
