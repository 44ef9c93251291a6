import type { DataSource } from 'typeorm';

/** Seconds a readiness probe waits for the database before calling it unreachable. */
const PROBE_TIMEOUT_MS = 2_000;

export type ReadinessState = { ready: true } | { ready: false; reason: string };

/** /readyz: the database answers and no migration is pending. */
export class Readiness {
  private migrationsApplied = false;

  constructor(private readonly dataSource: DataSource) {}

  async check(): Promise<ReadinessState> {
    try {
      await withTimeout(this.dataSource.query('SELECT 1'), PROBE_TIMEOUT_MS);
    } catch {
      return { ready: false, reason: 'database unreachable' };
    }
    if (!this.migrationsApplied) {
      try {
        // Once applied they stay applied: checked until true, then never again.
        this.migrationsApplied = !(await withTimeout(this.dataSource.showMigrations(), PROBE_TIMEOUT_MS));
      } catch {
        return { ready: false, reason: 'database unreachable' };
      }
      if (!this.migrationsApplied) return { ready: false, reason: 'migrations pending' };
    }
    return { ready: true };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
