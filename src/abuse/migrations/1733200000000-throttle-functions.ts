import type { MigrationInterface, QueryRunner } from 'typeorm';

/** One point on a counter: a fresh window when the old one is over (replaced by ThrottleRefundRows1764700031000). */
export const THROTTLE_TAKE = `
      CREATE FUNCTION throttle_take(p_key text, p_window_ms bigint, p_now bigint, OUT points integer, OUT expire bigint)
      LANGUAGE sql VOLATILE AS $$
        INSERT INTO rate_limits AS r (key, points, expire) VALUES (p_key, 1, p_now + p_window_ms)
        ON CONFLICT (key) DO UPDATE
          SET points = CASE WHEN r.expire <= p_now THEN 1 ELSE r.points + 1 END,
              expire = CASE WHEN r.expire <= p_now THEN p_now + p_window_ms ELSE r.expire END
        RETURNING r.points, r.expire
      $$`;

/** Milliseconds a hold (delay or lock) still has, or 0 (replaced by ThrottleRefundRows1764700031000). */
export const THROTTLE_HELD = `
      CREATE FUNCTION throttle_held(p_key text) RETURNS bigint
      LANGUAGE sql VOLATILE AS $$
        SELECT coalesce(max(expire - (extract(epoch FROM clock_timestamp()) * 1000)::bigint), 0)
          FROM rate_limits WHERE key = p_key AND expire > (extract(epoch FROM clock_timestamp()) * 1000)::bigint
      $$`;

/**
 * A failure: the points stay. A key that has used its last point is locked for p_lock_ms (its
 * count starts again from zero after), past p_delay_after failures it waits 2^(n - after) s (at
 * most p_delay_max_ms). Returns whether this call placed a lock first in its period (the one
 * failure that reports it). Replaced by ThrottleRefundRows1764700031000.
 */
export const THROTTLE_FAIL = `
      CREATE FUNCTION throttle_fail(p_counts text[], p_holds text[], p_locks text[], p_points integer[], p_lock_ms bigint[],
                                    p_delay_after integer[], p_delay_max_ms bigint[])
      RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        i integer;
        now_ms bigint;
        failures integer;
        lock_points integer;
        hold_ms bigint;
        locked boolean := false;
      BEGIN
        PERFORM set_config('synchronous_commit', 'off', true);
        FOR i IN 1 .. coalesce(array_length(p_counts, 1), 0) LOOP
          CONTINUE WHEN p_holds[i] IS NULL;
          now_ms := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
          SELECT r.points INTO failures FROM rate_limits r WHERE r.key = p_counts[i] AND r.expire > now_ms;
          failures := coalesce(failures, 1);
          hold_ms := NULL;
          IF p_lock_ms[i] IS NOT NULL AND failures >= p_points[i] THEN
            SELECT t.points INTO lock_points FROM throttle_take(p_locks[i], p_lock_ms[i], now_ms) t;
            locked := locked OR lock_points = 1;
            hold_ms := p_lock_ms[i];
            DELETE FROM rate_limits WHERE key = p_counts[i];
          ELSIF p_delay_after[i] IS NOT NULL AND failures >= p_delay_after[i] THEN
            hold_ms := least(power(2::numeric, failures - p_delay_after[i]) * 1000, p_delay_max_ms[i])::bigint;
          END IF;
          IF hold_ms IS NOT NULL THEN
            INSERT INTO rate_limits AS r (key, points, expire) VALUES (p_holds[i], 1, now_ms + hold_ms)
            ON CONFLICT (key) DO UPDATE SET points = 1, expire = now_ms + hold_ms;
          END IF;
        END LOOP;
        RETURN locked;
      END $$`;

/**
 * The throttle's steps as stored functions on the rate_limits table (same rows and key layout as
 * rate-limiter-flexible's RateLimiterPostgres used: key, points, expire in ms since the epoch), so
 * an attempt costs one round trip to begin and one to settle, however many policies it falls
 * under, instead of three or four statements per policy. Each statement inside a function takes a
 * fresh snapshot (VOLATILE, READ COMMITTED), exactly as the separate round trips did: a lock that
 * a racing failure places is seen by the re-check after the count. Times are the database's clock.
 *
 * The calls that write commit without waiting for their WAL flush (synchronous_commit off for their
 * own transaction only): a shared counter (one client address, one NAT) is locked from its update
 * until its commit, so with the flush inside that window every attempt from the address queued
 * behind the previous one's disk write (about 300 2FA steps a second from one address, however
 * many cores). What a crash of PostgreSQL can lose is the last fraction of a second of counts, as
 * with Redis, the other store; a commit is still atomic and seen by every instance at once.
 */
export class ThrottleFunctions1733200000000 implements MigrationInterface {
  name = 'ThrottleFunctions1733200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(THROTTLE_TAKE);
    // A point handed back; never below zero, never into a window that is over.
    await q.query(`
      CREATE FUNCTION throttle_give_back(p_keys text[]) RETURNS void
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        k text;
      BEGIN
        FOREACH k IN ARRAY coalesce(p_keys, '{}') LOOP
          UPDATE rate_limits SET points = points - 1
           WHERE key = k AND points > 0 AND expire > (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
        END LOOP;
      END $$`);
    await q.query(THROTTLE_HELD);
    /*
     * Counts one point on each check in order. A held key refuses before anything of it is counted;
     * an exhausted count refuses and its point goes back; a key whose lock appeared while it was
     * being counted (p_recheck) refuses too. A refusal hands back every point this call took and
     * returns the milliseconds to wait; NULL when every point was taken.
     */
    await q.query(`
      CREATE FUNCTION throttle_begin(p_counts text[], p_holds text[], p_points integer[], p_windows_ms bigint[], p_caps_ms bigint[], p_recheck boolean[])
      RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        i integer;
        now_ms bigint;
        held bigint;
        taken integer;
        ends bigint;
      BEGIN
        PERFORM set_config('synchronous_commit', 'off', true);
        FOR i IN 1 .. coalesce(array_length(p_counts, 1), 0) LOOP
          IF p_holds[i] IS NOT NULL THEN
            held := throttle_held(p_holds[i]);
            IF held > 0 THEN
              PERFORM throttle_give_back(p_counts[1:i - 1]);
              RETURN held;
            END IF;
          END IF;
          now_ms := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
          SELECT t.points, t.expire INTO taken, ends FROM throttle_take(p_counts[i], p_windows_ms[i], now_ms) t;
          IF taken > p_points[i] THEN
            PERFORM throttle_give_back(p_counts[1:i]);
            RETURN greatest(least(ends - now_ms, p_caps_ms[i]), 1);
          END IF;
          IF p_recheck[i] THEN
            held := throttle_held(p_holds[i]);
            IF held > 0 THEN
              PERFORM throttle_give_back(p_counts[1:i]);
              RETURN held;
            END IF;
          END IF;
        END LOOP;
        RETURN NULL;
      END $$`);
    /*
     * A verdict without failure: each counter 'refund's its point, 'reset's (count and hold gone)
     * or 'keep's it; then, in the same call, throttle_begin on the further checks (a successful
     * sign-in counted on its own limit). Returns what that throttle_begin returns.
     */
    await q.query(`
      CREATE FUNCTION throttle_settle(p_counts text[], p_holds text[], p_modes text[],
                                      n_counts text[], n_holds text[], n_points integer[], n_windows_ms bigint[], n_caps_ms bigint[], n_recheck boolean[])
      RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        i integer;
      BEGIN
        PERFORM set_config('synchronous_commit', 'off', true);
        FOR i IN 1 .. coalesce(array_length(p_counts, 1), 0) LOOP
          IF p_modes[i] = 'refund' THEN
            PERFORM throttle_give_back(ARRAY[p_counts[i]]);
          ELSIF p_modes[i] = 'reset' THEN
            DELETE FROM rate_limits WHERE key = p_counts[i] OR key = p_holds[i];
          END IF;
        END LOOP;
        RETURN throttle_begin(n_counts, n_holds, n_points, n_windows_ms, n_caps_ms, n_recheck);
      END $$`);
    await q.query(THROTTLE_FAIL);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION IF EXISTS throttle_fail(text[], text[], text[], integer[], bigint[], integer[], bigint[])');
    await q.query('DROP FUNCTION IF EXISTS throttle_settle(text[], text[], text[], text[], text[], integer[], bigint[], bigint[], boolean[])');
    await q.query('DROP FUNCTION IF EXISTS throttle_begin(text[], text[], integer[], bigint[], bigint[], boolean[])');
    await q.query('DROP FUNCTION IF EXISTS throttle_held(text)');
    await q.query('DROP FUNCTION IF EXISTS throttle_give_back(text[])');
    await q.query('DROP FUNCTION IF EXISTS throttle_take(text, bigint, bigint)');
  }
}
