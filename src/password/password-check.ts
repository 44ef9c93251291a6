import type { DataSource } from 'typeorm';
import type { Throttle } from '../abuse/throttle';
import type { ThrottleCheck } from '../abuse/throttle-policy';
import { USER_AGENT_MAX_CHARS } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import { rateLimited } from '../errors/core-errors';
import { SIGN_IN_COLUMNS, type SignInAccount } from '../sign-in/sign-in.service';
import { PasswordLimit, type PasswordConfig } from './password.config';
import { PasswordErrors } from './password.errors';
import { PasswordEvent } from './password.events';
import type { PasswordHasher } from './password-hasher';

/** An account as the password check reads it. */
export interface PasswordAccount extends SignInAccount {
  password_hash: string | null;
  failed_logins: number;
}

export const PASSWORD_ACCOUNT_COLUMNS = `${SIGN_IN_COLUMNS}, password_hash, failed_logins`;

/**
 * What the consecutive-failure lock is called where throttle locks are named by policy (the metrics'
 * `policy` label): a fixed word, so the label's values stay the throttle's policies and this one.
 */
export const CONSECUTIVE_FAILURES_LOCK = 'login:consecutive';

/** Characters of password input looked at before refusing without any hashing (4 bytes a character at most). */
export const MAX_PASSWORD_INPUT_CHARS = 256 * 4;

/**
 * One password check, for a login or a re-check of a signed-in user (changePassword, 2FA changes):
 * counted on the account's and the address's limits before bcrypt runs, settled whatever happens,
 * and, for an existing account, counted as a consecutive failure that only a success or a reset
 * clears (NIST SP 800-63B 5.2.2: at most 100 in a row, then the account waits for a reset or an
 * administrator, and no further guess is even checked).
 */
export class PasswordCheck {
  private readonly lockListeners: Array<(lock: string) => void> = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly throttle: Throttle,
    private readonly config: PasswordConfig,
  ) {}

  /** Called once for each account that reaches the consecutive-failure cap (metrics count it with the throttle's locks). */
  onLock(listener: (lock: string) => void): void {
    this.lockListeners.push(listener);
  }

  /**
   * Returns the account when the password is right; INVALID_CREDENTIALS otherwise (unknown account
   * included). `countOnSuccess`: checks a right password is counted on, in the round trip that
   * settles the attempt (login's successes per account).
   */
  async check(
    key: string,
    account: PasswordAccount | undefined,
    password: string,
    request: RequestInfo,
    audit: boolean,
    countOnSuccess: ThrottleCheck[] = [],
  ): Promise<PasswordAccount> {
    if (typeof password !== 'string' || !password || password.length > MAX_PASSWORD_INPUT_CHARS) throw PasswordErrors.INVALID_CREDENTIALS();
    const checks = [
      { policy: PasswordLimit.BY_ADDRESS, key: request.ip },
      { policy: PasswordLimit.BY_ACCOUNT, key },
    ];
    return this.throttle.attempt(checks, async (attempt) => {
      if (account && account.failed_logins >= this.config.maxConsecutiveFailures) {
        // The same bcrypt work as a real check, and the same answer as any lock: no oracle.
        await this.hasher.burn(password, request.ip);
        throw rateLimited(this.config.loginLockSeconds);
      }
      const valid = account?.password_hash
        ? await this.hasher.verify(password, account.password_hash, request.ip)
        : (await this.hasher.burn(password, request.ip), false);
      if (!account || !valid) {
        const { locked } = await attempt.failed();
        const failures = await this.recordFailure(account ? account.id : null, request, audit, locked, account ? 'password' : 'unknown_identifier');
        if (account && failures === this.config.maxConsecutiveFailures) await this.recordHardLock(account.id, request);
        throw PasswordErrors.INVALID_CREDENTIALS();
      }
      await attempt.succeeded({ count: countOnSuccess });
      if (account.failed_logins > 0) await this.dataSource.query('UPDATE users SET failed_logins = 0 WHERE id = $1', [account.id]);
      return account;
    });
  }

  /**
   * One statement for known and unknown identifiers alike (same work, same time): the account's
   * consecutive-failure count and the audit rows. Returns the new count (0 for no account).
   */
  private async recordFailure(userId: string | null, request: RequestInfo, audit: boolean, locked: boolean, reason: string): Promise<number> {
    const types = audit ? [PasswordEvent.LOGIN_FAILED, ...(locked ? [PasswordEvent.ACCOUNT_LOCKED] : [])] : [];
    const data = types.map((t) => JSON.stringify(t === PasswordEvent.LOGIN_FAILED ? { reason } : {}));
    const rows: Array<{ failed_logins: number | null }> = await this.dataSource.query(
      `WITH counted AS (UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins),
            logged AS (INSERT INTO audit_events (type, user_id, ip_address, user_agent, data)
                       SELECT t, $1::uuid, $4, $5, d::jsonb FROM unnest($2::text[], $3::text[]) AS x(t, d))
       SELECT (SELECT failed_logins FROM counted) AS failed_logins`,
      [userId, types, data, request.ip, request.userAgent?.slice(0, USER_AGENT_MAX_CHARS) ?? null],
    );
    return rows[0]?.failed_logins ?? 0;
  }

  private async recordHardLock(userId: string, request: RequestInfo): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO audit_events (type, user_id, ip_address, user_agent, data) VALUES ($1, $2, $3, $4, $5)`,
      [PasswordEvent.ACCOUNT_LOCKED, userId, request.ip, request.userAgent?.slice(0, USER_AGENT_MAX_CHARS) ?? null, { reason: 'consecutive_failures' }],
    );
    for (const listener of this.lockListeners) listener(CONSECUTIVE_FAILURES_LOCK);
  }
}
