/**
 * One policy applied to one key, as the store sees it: the counter's keys and the policy's numbers.
 * Keys keep rate-limiter-flexible's layout (`<prefix>:<policy>[:hold|:lock]:<sha256 of the key>`),
 * so counters written before survive the upgrade.
 */
export interface CounterSpec {
  count: string;
  /** Growing delays and locks live here; null for a policy without them. */
  hold: string | null;
  /** Reports a lock once per lock period; null for a policy without a lock. */
  lock: string | null;
  points: number;
  windowMs: number;
  /** Longest retryAfter an exhausted count answers (the lock, else the window). */
  capMs: number;
  onSuccess: 'refund' | 'reset' | 'keep';
  lockMs: number | null;
  delayAfterFailures: number | null;
  delayMaxMs: number | null;
}

export type SettleMode = CounterSpec['onSuccess'];
