import { DAY_SECONDS, int, type Env } from '../config/parse';
import type { ThrottlePolicy } from '../abuse/throttle-policy';
import type { CoreConfig } from '../config/core-config';

export interface SignInConfig {
  /** Second-factor failures per account (codes, passkey assertions) that lock the second factor. */
  twoFactorLockAfterFailures: number;
  /** How long that lock lasts, seconds. */
  twoFactorLockSeconds: number;
}

export function readSignInConfig(env: Env): SignInConfig {
  return {
    twoFactorLockAfterFailures: int(env, 'TWO_FACTOR_LOCK_AFTER_FAILURES', 10, 1, 100),
    twoFactorLockSeconds: int(env, 'TWO_FACTOR_LOCK_SECONDS', 15 * 60, 1, DAY_SECONDS),
  };
}

/** Counter names of the second-factor step, shared by every place a second factor is checked. */
export const SecondFactorLimit = {
  BY_ACCOUNT: '2fa:acct',
  BY_ADDRESS: '2fa:ip',
} as const;

/**
 * Failures of one account are remembered this long unless a success resets them (a fixed window of
 * the counter store); a lock starts a fresh count.
 */
const ACCOUNT_FAILURE_MEMORY_SECONDS = DAY_SECONDS;

export function secondFactorPolicies(config: SignInConfig, core: CoreConfig): ThrottlePolicy[] {
  return [
    {
      name: SecondFactorLimit.BY_ACCOUNT,
      points: config.twoFactorLockAfterFailures,
      windowSeconds: ACCOUNT_FAILURE_MEMORY_SECONDS,
      onSuccess: 'reset',
      lockSeconds: config.twoFactorLockSeconds,
    },
    { name: SecondFactorLimit.BY_ADDRESS, points: core.limits.ipFailuresPerWindow, windowSeconds: core.limits.ipWindowSeconds, onSuccess: 'refund' },
  ];
}
