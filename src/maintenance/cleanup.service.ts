import type { DataSource } from 'typeorm';
import type { CleanupJob } from './cleanup-job';

export interface CleanupOptions {
  /** How often one instance prunes, ms. */
  intervalMs: number;
  /** Every module's pruning statements (FeatureModule.cleanupJobs). */
  jobs: readonly CleanupJob[];
  onError?: (error: unknown) => void;
}

/** Any constant: one instance prunes at a time, the others skip that round. */
const CLEANUP_LOCK_KEY = 7_240_192;
/** Rows deleted per statement, so one round never holds long locks on a large table. */
const BATCH_ROWS = 5_000;
/**
 * Every refresh adds a row (retired tokens are kept to recognise reuse), and every login attempt
 * with 2FA a challenge: without pruning these tables grow for ever. The modules say what to prune;
 * this runs it on one instance at a time, in batches.
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
        const removed: Record<string, number> = {};
        for (const job of this.options.jobs) removed[job.name] = await prune(job.sql, [...job.params]);
        return removed;
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [CLEANUP_LOCK_KEY]);
      }
    } finally {
      await runner.release();
    }
  }
}
