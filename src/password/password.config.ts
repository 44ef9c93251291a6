import { availableParallelism } from 'node:os';
import type { ThrottlePolicy } from '../abuse/throttle-policy';
import type { CoreConfig } from '../config/core-config';
import { ConfigError, DAY_SECONDS, int, type Env } from '../config/parse';

export interface PasswordConfig {
  bcryptRounds: number;
  /** bcrypt jobs running at once (libuv pool threads they may occupy). */
  bcryptConcurrency: number;
  /** bcrypt jobs allowed to wait; past that the service sheds load with SERVICE_UNAVAILABLE. */
  bcryptQueueLimit: number;
  /** Password failures per account before growing delays start. */
  loginDelayAfterFailures: number;
  /** Password failures per account (in one run) that lock it for loginLockSeconds. */
  loginLockAfterFailures: number;
  loginLockSeconds: number;
  /** Longest of the growing delays between failed logins of one account, seconds. */
  loginMaxDelaySeconds: number;
  /** Consecutive failures (across lock cycles and identifiers) after which only a reset or an administrator unlocks. */
  maxConsecutiveFailures: number;
  /** Successful password sign-ins per account per hour (caps session floods; a person never gets near it). */
  loginSuccessesPerHour: number;
  registrationsPerWindow: number;
  registrationWindowSeconds: number;
}

export function readPasswordConfig(env: Env, core: CoreConfig): PasswordConfig {
  const bcryptRounds = int(env, 'BCRYPT_ROUNDS', 12, 4, 20);
  if (core.isProduction && bcryptRounds < 10) throw new ConfigError('BCRYPT_ROUNDS', `must be at least 10 in production, got ${bcryptRounds}`);
  return {
    bcryptRounds,
    // More hashes at once than cores only starves the event loop and PostgreSQL (bench: `me` p99 halves
    // on 2 cores going from 4 to 2) without more logins per second.
    bcryptConcurrency: int(env, 'BCRYPT_CONCURRENCY', Math.min(Number(env.UV_THREADPOOL_SIZE ?? 4), availableParallelism()), 1, 128),
    bcryptQueueLimit: int(env, 'BCRYPT_QUEUE_LIMIT', 200, 0, 100_000),
    loginDelayAfterFailures: int(env, 'LOGIN_DELAY_AFTER_FAILURES', 5, 1, 100),
    // NIST SP 800-63B 5.2.2: no more than 100 consecutive failures per account.
    loginLockAfterFailures: int(env, 'LOGIN_LOCK_AFTER_FAILURES', 20, 2, 100),
    loginLockSeconds: int(env, 'LOGIN_LOCK_SECONDS', 15 * 60, 1, DAY_SECONDS),
    loginMaxDelaySeconds: int(env, 'LOGIN_MAX_DELAY_SECONDS', 60, 1, 60 * 60),
    maxConsecutiveFailures: int(env, 'LOGIN_MAX_CONSECUTIVE_FAILURES', 100, 2, 100),
    loginSuccessesPerHour: int(env, 'LOGIN_SUCCESSES_PER_HOUR', 120, 1, 1_000_000),
    // Outside production every client is usually 127.0.0.1 (a developer, a test suite): one shared
    // address would exhaust a production-sized budget within minutes.
    registrationsPerWindow: int(env, 'REGISTRATIONS_PER_WINDOW', core.isProduction ? 20 : 10_000, 1, 1_000_000),
    registrationWindowSeconds: int(env, 'REGISTRATION_WINDOW_SECONDS', 60 * 60, 1, DAY_SECONDS),
  };
}

export const PasswordLimit = {
  BY_ACCOUNT: 'login:acct',
  BY_ADDRESS: 'login:ip',
  SUCCESSES_BY_ACCOUNT: 'login:ok:acct',
  REGISTRATIONS_BY_ADDRESS: 'register:ip',
} as const;

/** A run of failures is remembered this long unless a success or a lock ends it. */
const ACCOUNT_FAILURE_MEMORY_SECONDS = DAY_SECONDS;
const HOUR_SECONDS = 60 * 60;

export function passwordPolicies(config: PasswordConfig, core: CoreConfig): ThrottlePolicy[] {
  return [
    {
      // Keyed by the identifier typed (case-folded), account or not: a locked account, a wrong
      // password and an unknown identifier all answer alike.
      name: PasswordLimit.BY_ACCOUNT,
      points: config.loginLockAfterFailures,
      windowSeconds: ACCOUNT_FAILURE_MEMORY_SECONDS,
      onSuccess: 'reset',
      delays: { afterFailures: config.loginDelayAfterFailures, maxSeconds: config.loginMaxDelaySeconds },
      lockSeconds: config.loginLockSeconds,
    },
    { name: PasswordLimit.BY_ADDRESS, points: core.limits.ipFailuresPerWindow, windowSeconds: core.limits.ipWindowSeconds, onSuccess: 'refund' },
    { name: PasswordLimit.SUCCESSES_BY_ACCOUNT, points: config.loginSuccessesPerHour, windowSeconds: HOUR_SECONDS, onSuccess: 'keep' },
    { name: PasswordLimit.REGISTRATIONS_BY_ADDRESS, points: config.registrationsPerWindow, windowSeconds: config.registrationWindowSeconds, onSuccess: 'keep' },
  ];
}
