import type { DataSource } from 'typeorm';

export interface CleanupOptions {
  /** How often one instance prunes, ms. */
  intervalMs: number;
  /** Retired refresh tokens older than this are forgotten (their replay is then merely unknown), seconds. */
  retiredTokenRetentionSeconds: number;
  /** Ended sessions (revoked or expired) are kept this long for the user's and the auditor's view, seconds. */
  endedSessionRetentionSeconds: number;
  onError?: (error: unknown) => void;
}

/** Any constant: one instance prunes at a time, the others skip that round. */
const CLEANUP_LOCK_KEY = 7_240_192;
/** Rows deleted per statement, so one round never holds long locks on a large table. */
const BATCH_ROWS = 5_000;
/** Expired challenges are useless at once; a day keeps them for debugging a failed login. */
const CHALLENGE_RETENTION_SECONDS = 24 * 60 * 60;

/**
 * Every refresh adds a row (retired tokens are kept to recognise reuse), and every login attempt
 * with 2FA a challenge: without pruning these tables grow for ever. Audit events are never pruned
 * here: how long to keep them is the operator's policy.
 */
export class CleanupService {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: CleanupOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.runOnce()
        .then(() => undefined)
        .catch((error) => this.options.onError?.(error))
        .finally(() => {
          this.running = undefined;
        });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pruning round; returns the rows removed per table, or null when another instance holds the lock. */
  async runOnce(): Promise<Record<string, number> | null> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [CLEANUP_LOCK_KEY]);
      if (!locked) return null;
      try {
        const prune = async (sql: string, params: unknown[]): Promise<number> => {
          let total = 0;
          for (;;) {
            const [, count]: [unknown, number] = await runner.query(sql, [...params, BATCH_ROWS]);
            total += count;
            if (count < BATCH_ROWS) return total;
          }
        };
        const refreshTokens = await prune(
          `DELETE FROM refresh_tokens WHERE id IN (
             SELECT id FROM refresh_tokens WHERE retired_at < now() - make_interval(secs => $1) LIMIT $2)`,
          [this.options.retiredTokenRetentionSeconds],
        );
        const sessions = await prune(
          `DELETE FROM sessions WHERE id IN (
             SELECT id FROM sessions
              WHERE (revoked_at < now() - make_interval(secs => $1)) OR (expires_at < now() - make_interval(secs => $1))
              LIMIT $2)`,
          [this.options.endedSessionRetentionSeconds],
        );
        const challenges = await prune(
          `DELETE FROM two_factor_challenges WHERE id IN (
             SELECT id FROM two_factor_challenges WHERE expires_at < now() - make_interval(secs => $1) LIMIT $2)`,
          [CHALLENGE_RETENTION_SECONDS],
        );
        return { refreshTokens, sessions, challenges };
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [CLEANUP_LOCK_KEY]);
      }
    } finally {
      await runner.release();
    }
  }
}
