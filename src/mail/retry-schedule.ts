/**
 * When a failed mail is tried again (CONTRACT.md, Email): the first retry within 5 s, each delay
 * twice the one before up to 10 minutes, and retries go on for at least 24 hours before the mail
 * is given up (SMTP servers are down for hours, rarely for days).
 */
export const MAX_RETRY_DELAY_SECONDS = 10 * 60;
export const RETRY_HORIZON_SECONDS = 24 * 60 * 60;

/** Seconds to wait after the `failures`-th failed attempt (1 for the first). */
export function retryDelaySeconds(failures: number, firstSeconds: number): number {
  return Math.min(firstSeconds * 2 ** Math.max(0, failures - 1), MAX_RETRY_DELAY_SECONDS);
}
