import type { Sql } from '../db/sql';

/**
 * Each instance's view of revoked sessions, so the per-request check is a Map lookup and never a
 * query. Revocations made here are seen at once; those made by other instances (same database)
 * arrive with the next poll, every `pollMs` (< 5 s). Only revocations young enough to matter are
 * kept: an access token never outlives its issue time plus the access-token lifetime.
 *
 * Two clocks, never compared with each other: which revocations to read is decided in the
 * database's time (its `revoked_at` stamps against its own `now()`), and how long to keep an entry
 * in this instance's time (from the moment the entry was learned here). Pruning database stamps by
 * the local clock dropped entries early on an instance running ahead of the database, and a
 * logged-out token worked again there.
 */
export interface RevocationWatcherOptions {
  pollMs: number;
  /** Access-token lifetime plus clock tolerance, seconds: older revocations can match no live token. */
  horizonSeconds: number;
  onError?: (error: unknown) => void;
  /** This instance's clock, ms since the epoch (default Date.now); tests move it against the database's. */
  clock?: () => number;
}

/**
 * Re-read this far back on every poll: a revoking transaction may commit after a later poll began
 * (revocations are stamped with clock_timestamp(), the moment of their UPDATE, not their commit).
 */
const POLL_OVERLAP_SECONDS = 30;
/** Past this age of the last good poll, the 5-second promise cannot be kept: fail closed. */
const STALE_AFTER_MS = 4_000;

export class RevocationWatcher {
  /** Session id -> when this instance learned of the revocation, on its own clock (ms). */
  private readonly revoked = new Map<string, number>();
  /** The database's time at the start of the last good poll (database clock only). */
  private watermark: Date | null = null;
  private lastSuccess = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly sql: Sql,
    private readonly options: RevocationWatcherOptions,
  ) {
    this.now = options.clock ?? Date.now;
  }

  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.pollOnce(), this.options.pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  isRevoked(sessionId: string): boolean {
    return this.revoked.has(sessionId);
  }

  /** Whether the view is recent enough to trust; when not, guarded calls get SERVICE_UNAVAILABLE. */
  isFresh(): boolean {
    return this.now() - this.lastSuccess < Math.max(STALE_AFTER_MS, this.options.pollMs * 2);
  }

  /** Called by this instance right after it commits a revocation. */
  markRevoked(...sessionIds: string[]): void {
    this.learn(sessionIds);
  }

  /** Keeps the first time an id was learned: re-reading it in the overlap must not reset its age. */
  private learn(sessionIds: Iterable<string>): void {
    const now = this.now();
    for (const id of sessionIds) if (!this.revoked.has(id)) this.revoked.set(id, now);
  }

  private pollOnce(): Promise<void> {
    // One poll at a time: a slow database must not pile up queries.
    this.polling ??= this.poll()
      .catch((error) => this.options.onError?.(error))
      .finally(() => {
        this.polling = undefined;
      });
    return this.polling;
  }

  private async poll(): Promise<void> {
    // The first poll reads back one horizon, later ones from the last watermark less the overlap:
    // both bounds are database times compared with database stamps.
    const since = this.watermark ? new Date(this.watermark.getTime() - POLL_OVERLAP_SECONDS * 1000) : null;
    const rows = await this.sql.many<{ id: string | null; db_now: Date }>(
      'revocations_since',
      `SELECT s.id, n.db_now
         FROM (SELECT now() AS db_now) n
         LEFT JOIN sessions s ON s.revoked_at > COALESCE($1::timestamptz, n.db_now - make_interval(secs => $2))`,
      [since, this.options.horizonSeconds],
    );
    this.learn(rows.flatMap((row) => (row.id ? [row.id] : [])));
    this.watermark = rows[0].db_now;
    const now = this.now();
    this.lastSuccess = now;
    const horizon = now - this.options.horizonSeconds * 1000;
    for (const [id, learnedAt] of this.revoked) if (learnedAt < horizon) this.revoked.delete(id);
  }
}
