/**
 * A rate limit as data: which counter, how many points per window, what a success does, and what
 * repeated failures cost. Modules declare policies (FeatureModule.throttlePolicies); one mechanism
 * (Throttle) applies them all the same way.
 */
export interface ThrottlePolicy {
  /** Counter namespace, unique in the service (`login:acct`, `2fa:ip`, ...). */
  readonly name: string;
  /** Attempts counted per window before the key is refused. */
  readonly points: number;
  readonly windowSeconds: number;
  /**
   * What a success does to the point its attempt took: `refund` it (the counter counts failures of
   * a shared key, such as an address), `reset` the key (a right password ends a run of failures),
   * or `keep` it (every attempt counts: registrations, successful sign-ins).
   */
  readonly onSuccess: 'refund' | 'reset' | 'keep';
  /** Growing holds between failures: after `afterFailures`, 2^(n - afterFailures) s, at most `maxSeconds`. */
  readonly delays?: { readonly afterFailures: number; readonly maxSeconds: number };
  /** The failure that uses the last point locks the key this long (one report of it per lock). */
  readonly lockSeconds?: number;
}

/** One policy (by name) applied to one key (an account, an address); a null key (no address known) is skipped. */
export interface ThrottleCheck {
  readonly policy: string;
  readonly key: string | null;
}
