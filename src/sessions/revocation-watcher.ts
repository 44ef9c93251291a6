import type { Sql } from '../db/sql';

/**
 * Each instance's view of revoked sessions, so the per-request check is a Map lookup and never a
 * query. Revocations made here are seen at once; those made by other instances (same database)
 * arrive with the next poll, every `pollMs` (< 5 s). Only revocations young enough to matter are
 * kept: an access token never outlives its issue time plus the access-token lifetime.
 */
export interface RevocationWatcherOptions {
  pollMs: number;
  /** Access-token lifetime plus clock tolerance, seconds: older revocations can match no live token. */
  horizonSeconds: number;
  onError?: (error: unknown) => void;
  /** This instance's clock, ms since the epoch (default Date.now); tests move it against the database's. */
  clock?: () => number;
}

/** Re-read this far back on every poll: a revoking transaction may commit after a later poll began. */
const POLL_OVERLAP_SECONDS = 30;
/** Past this age of the last good poll, the 5-second promise cannot be kept: fail closed. */
const STALE_AFTER_MS = 4_000;

export class RevocationWatcher {
  private readonly revoked = new Map<string, number>(); // session id -> revoked at (ms)
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
    const now = this.now();
    for (const id of sessionIds) this.revoked.set(id, now);
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
    const since = this.watermark
      ? new Date(this.watermark.getTime() - POLL_OVERLAP_SECONDS * 1000)
      : new Date(this.now() - this.options.horizonSeconds * 1000);
    const rows = await this.sql.many<{ id: string; revoked_at: Date; db_now: Date }>(
      'revocations_since',
      `SELECT s.id, s.revoked_at, n.db_now
         FROM (SELECT now() AS db_now) n
         LEFT JOIN sessions s ON s.revoked_at > $1`,
      [since],
    );
    for (const row of rows) if (row.id) this.revoked.set(row.id, row.revoked_at.getTime());
    this.watermark = rows[0]?.db_now ?? new Date();
    this.lastSuccess = this.now();
    const horizon = this.now() - this.options.horizonSeconds * 1000;
    for (const [id, at] of this.revoked) if (at < horizon) this.revoked.delete(id);
  }
}
