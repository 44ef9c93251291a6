import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (USER_HZ; 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used, ms; NaN when it cannot be read (not Linux, gone). */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start past the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** CPU time of a process and its direct children (a PostgreSQL postmaster and its backends, WAL writer, ...), ms. */
export function treeCpuMs(parent: number): number {
  let total = processCpuMs(parent);
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[1]) === parent) total += ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
      } catch {
        // exited meanwhile
      }
    }
  } catch {
    return Number.NaN;
  }
  return total;
}

/** The parent (postmaster) of a process, from /proc; NaN when unknown. */
export function parentOf(pid: number): number {
  try {
    return Number(/^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU spent per request, by process, over a measured window: what a ratio between two servers on
 * one machine is made of (the service, PostgreSQL, the load generator share the same cores).
 */
export class CpuMeter {
  private start: Record<string, number> = {};

  constructor(private readonly sources: Record<string, () => number>) {}

  begin(): void {
    this.start = Object.fromEntries(Object.entries(this.sources).map(([name, read]) => [name, read()]));
  }

  /** ms of CPU per request since begin(), by source. */
  perRequest(requests: number): Record<string, number> {
    return Object.fromEntries(Object.entries(this.sources).map(([name, read]) => [name, (read() - this.start[name]) / Math.max(1, requests)]));
  }
}

/** "service 0.61 + PostgreSQL 0.32 + load generator 0.05 = 0.98 ms" */
export function describeCpu(perRequest: Record<string, number>): string {
  const parts = Object.entries(perRequest).filter(([, ms]) => Number.isFinite(ms));
  const sum = parts.reduce((a, [, ms]) => a + ms, 0);
  return `${parts.map(([name, ms]) => `${name} ${ms.toFixed(2)}`).join(' + ')} = ${sum.toFixed(2)} ms CPU per request`;
}
