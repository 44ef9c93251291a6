import type { MigrationInterface, QueryRunner } from 'typeorm';
import { THROTTLE_FAIL, THROTTLE_HELD, THROTTLE_TAKE } from './1733200000000-throttle-functions';

const orReplace = (sql: string): string => sql.replace('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION');

const FAILURES_READ = 'SELECT r.points INTO failures FROM rate_limits r WHERE r.key = p_counts[i] AND r.expire > now_ms;';
/** The failures of a window are its points less the refunds written for that window and not yet taken back. */
const FAILURES_READ_NET = `SELECT r.points - (SELECT count(*) FROM rate_limit_refunds f WHERE f.key = r.key AND f.expire = r.expire)::int INTO failures
            FROM rate_limits r WHERE r.key = p_counts[i] AND r.expire > now_ms;`;

/**
 * A success's refund as a row of its own (rate_limit_refunds: the counter's key and the window it
 * refunds), so that it can commit with the caller's own durable write (the 2FA step's statement,
 * src/abuse/throttle-steps.ts) without locking the counter. Decrementing the counter there would
 * hold a shared counter's row (one address, one NAT) until that write's WAL flush, and every
 * attempt from the address would queue behind it: in bench runs under the same load, the 2FA step's
 * read (which counts the attempt) waited 10.9 ms on average that way, 1.1 ms with refund rows.
 *
 * throttle_take folds the refunds into the count it takes, under the counter's row lock; rows it
 * cannot lock (another take is folding them) are left to that take (SKIP LOCKED: two takes never
 * wait on each other's refunds). throttle_fail counts a window's failures net of its pending
 * refunds. Refunds of a window that is over are dropped, as throttle_give_back never refunds into
 * a window that is over.
 *
 * throttle_take and throttle_held become PL/pgSQL: a LANGUAGE sql function that is not inlined is
 * planned again on every call (PostgreSQL before 18), and those plans cost more than the
 * statements (pg_stat_statements: 0.10 and 0.06 ms of planning against 0.08 and 0.01 of
 * execution); PL/pgSQL keeps its plans for the connection.
 *
 * The table is UNLOGGED: a refund lives from a success to the key's next take, and writing it to
 * the WAL (twice, in and out) cost more than the round trip it saves. A crash of PostgreSQL empties
 * it: the refunds pending then stay counted until their window ends (by default 15 minutes of an
 * address's budget of 100), the same kind of loss as the counts the throttle functions commit
 * without waiting for their flush.
 */
export class ThrottleRefundRows1764700031000 implements MigrationInterface {
  name = 'ThrottleRefundRows1764700031000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE UNLOGGED TABLE rate_limit_refunds (key varchar(255) NOT NULL, expire bigint NOT NULL)`);
    await q.query(`CREATE INDEX ix_rate_limit_refunds_key ON rate_limit_refunds (key)`);
    await q.query(`
      CREATE OR REPLACE FUNCTION throttle_take(p_key text, p_window_ms bigint, p_now bigint, OUT points integer, OUT expire bigint)
      LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        WITH refunded AS (
          DELETE FROM rate_limit_refunds f
           USING (SELECT ctid FROM rate_limit_refunds WHERE key = p_key FOR UPDATE SKIP LOCKED) mine
           WHERE f.ctid = mine.ctid
          RETURNING f.expire
        )
        INSERT INTO rate_limits AS r (key, points, expire) VALUES (p_key, 1, p_now + p_window_ms)
        ON CONFLICT (key) DO UPDATE
          SET points = CASE WHEN r.expire <= p_now THEN 1
                            ELSE greatest(r.points - (SELECT count(*) FROM refunded WHERE refunded.expire = r.expire)::int, 0) + 1 END,
              expire = CASE WHEN r.expire <= p_now THEN p_now + p_window_ms ELSE r.expire END
        RETURNING r.points, r.expire INTO points, expire;
      END $$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION throttle_held(p_key text) RETURNS bigint
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        now_ms bigint := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
      BEGIN
        RETURN (SELECT coalesce(max(r.expire - now_ms), 0) FROM rate_limits r WHERE r.key = p_key AND r.expire > now_ms);
      END $$`);
    if (!THROTTLE_FAIL.includes(FAILURES_READ)) throw new Error('throttle_fail is not the function this migration changes');
    await q.query(orReplace(THROTTLE_FAIL.replace(FAILURES_READ, FAILURES_READ_NET)));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(orReplace(THROTTLE_FAIL));
    await q.query(orReplace(THROTTLE_HELD));
    await q.query(orReplace(THROTTLE_TAKE));
    await q.query('DROP TABLE IF EXISTS rate_limit_refunds');
  }
}
