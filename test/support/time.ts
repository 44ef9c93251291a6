/** The one `sleep` of the suite: for waits on real time the service measures itself (throttle windows, polls). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface Polled<T> {
  /** What the probe returned last: the awaited value, or the last one seen when time ran out. */
  value: T;
  /** Milliseconds from the first probe to the one that returned `value`. */
  elapsedMs: number;
}

/**
 * Probes until `done(value)` holds or `timeoutMs` has passed, and returns the last value either way:
 * the caller asserts on it, so a timeout fails with what was actually seen (never a silent pass).
 */
export async function pollUntil<T>(
  probe: () => Promise<T> | T,
  done: (value: T) => boolean,
  { timeoutMs, intervalMs = 100 }: { timeoutMs: number; intervalMs?: number },
): Promise<Polled<T>> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    const elapsedMs = Date.now() - started;
    if (done(value) || elapsedMs >= timeoutMs) return { value, elapsedMs };
    await sleep(intervalMs);
  }
}
