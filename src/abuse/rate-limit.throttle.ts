import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { RateLimiterRes, type RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import type { LimitsConfig } from '../config/config';
import { sha256Hex } from '../crypto/random';
import { RateLimitedError, ServiceUnavailableError } from '../errors/app-errors';
import type { LimiterStore } from './limiter-store';
import type { Throttle } from './throttle';

/**
 * Failures of one account are "consecutive" until a success resets them or this long has passed
 * since the first of them (rate-limiter-flexible counts in fixed windows).
 */
const ACCOUNT_FAILURE_MEMORY_SECONDS = 24 * 60 * 60;

/**
 * The abuse limits of CONTRACT.md ("Abuse"), on rate-limiter-flexible counters in one shared store.
 *
 * Password logins (per account = case-folded identifier, hashed; and per client address):
 * - Every attempt is counted *before* the password is checked (`loginByAccount`, `loginByAddress`
 *   consume a point atomically), and a success gives the point back. Counting only after the
 *   check would let a burst of parallel requests all pass the "is it locked?" test while the
 *   count is still 0: an attacker would get as many guesses as requests in flight.
 * - Growing delays: after N >= loginDelayAfterFailures failures, the account is held for
 *   min(2^(N - loginDelayAfterFailures), loginMaxDelaySeconds) seconds by a `block()` on the
 *   `loginDelay` limiter; while held, no attempt is even checked (RATE_LIMITED, retryAfter).
 *   Attempts refused by a delay are not failures, so a hurried user does not lock themself out.
 * - Lock: the failure that brings N to loginLockAfterFailures consumes the zero-point `loginLock`
 *   limiter (duration = lock length). Only the first consume of a window sees
 *   `isFirstInDuration`, so exactly one racing request reports `{ locked: true }` (one audit event).
 *   The failure count starts again after the lock, so a lock cycle allows at most that many
 *   guesses, which NIST SP 800-63B 5.2.2 bounds at 100 (config refuses more).
 * - The lock is keyed by the identifier typed, whether or not an account has it: a locked
 *   account, a wrong password and an unknown identifier all answer alike (no enumeration).
 *
 * Second factor (per account = user id; and per address, counters of their own): counted when a
 * code fails; the failure reaching twoFactorLockAfterFailures crosses the limiter's `points`, and
 * the library then blocks the key for twoFactorLockSeconds. A challenge already caps its own wrong
 * codes, so no up-front count is needed here, and a forgotten success call cannot lock anyone out.
 *
 * Registrations: per address, counted before hashing.
 *
 * Store failures fail closed: SERVICE_UNAVAILABLE, never a login without its counters.
 */
export class RateLimitThrottle implements Throttle {
  private readonly loginByAddress: RateLimiterStoreAbstract;
  private readonly loginByAccount: RateLimiterStoreAbstract;
  private readonly loginDelay: RateLimiterStoreAbstract;
  private readonly loginLock: RateLimiterStoreAbstract;
  private readonly twoFactorByAccount: RateLimiterStoreAbstract;
  private readonly twoFactorByAddress: RateLimiterStoreAbstract;
  private readonly registerByAddress: RateLimiterStoreAbstract;

  constructor(
    private readonly store: LimiterStore,
    private readonly limits: LimitsConfig,
    keyPrefix: string,
    private readonly logger: Logger,
  ) {
    const limiter = (name: string, options: { points: number; duration: number; blockDuration?: number }) =>
      store.limiter({ keyPrefix: `${keyPrefix}:${name}`, ...options });
    this.loginByAddress = limiter('login:ip', { points: limits.ipFailuresPerWindow, duration: limits.ipWindowSeconds });
    this.loginByAccount = limiter('login:acct', { points: limits.loginLockAfterFailures, duration: ACCOUNT_FAILURE_MEMORY_SECONDS });
    // Only ever written with block(); points 0 makes any stored row mean "held".
    this.loginDelay = limiter('login:delay', { points: 0, duration: limits.loginMaxDelaySeconds });
    this.loginLock = limiter('login:lock', { points: 0, duration: limits.loginLockSeconds });
    this.twoFactorByAccount = limiter('2fa:acct', {
      points: limits.twoFactorLockAfterFailures - 1,
      duration: ACCOUNT_FAILURE_MEMORY_SECONDS,
      blockDuration: limits.twoFactorLockSeconds,
    });
    this.twoFactorByAddress = limiter('2fa:ip', { points: limits.ipFailuresPerWindow, duration: limits.ipWindowSeconds });
    this.registerByAddress = limiter('register:ip', { points: limits.registrationsPerWindow, duration: limits.registrationWindowSeconds });
  }

  async beforeLogin(identifier: string, ip: string | null): Promise<void> {
    const account = accountKey(identifier);
    await this.guard('beforeLogin', async () => {
      // Held accounts are refused before anything is counted: a hold is no new failure.
      const [lock, delay] = await Promise.all([this.loginLock.get(account), this.loginDelay.get(account)]);
      const heldMs = Math.max(remainingMs(lock), remainingMs(delay));
      if (heldMs > 0) throw new RateLimitedError(heldMs / 1000);
      if (ip) await this.loginByAddress.consume(ip).catch(refuse());
      // Over the count without a lock yet: attempts still in flight will set it; wait at most that long.
      await this.loginByAccount.consume(account).catch(refuse(this.limits.loginLockSeconds));
      // A lock placed between the first check and the count reset the count, so the count alone let
      // this attempt through: look again, and hand the point back to the next cycle if it is locked.
      const lockedMeanwhile = await this.loginLock.get(account);
      if (remainingMs(lockedMeanwhile) > 0) {
        await this.loginByAccount.reward(account);
        throw new RateLimitedError(remainingMs(lockedMeanwhile) / 1000);
      }
    });
  }

  async loginFailed(identifier: string, _ip: string | null): Promise<{ locked: boolean }> {
    const account = accountKey(identifier);
    // The attempt (account and address) was counted by beforeLogin.
    return this.guard('loginFailed', async () => {
      const counted = await this.loginByAccount.get(account);
      const failures = counted?.consumedPoints ?? 1;
      if (failures >= this.limits.loginLockAfterFailures) {
        const locked = await this.loginLock.consume(account).then(
          () => false,
          (res: unknown) => {
            if (res instanceof RateLimiterRes) return res.isFirstInDuration;
            throw res;
          },
        );
        // The next cycle after the lock starts from zero failures.
        await Promise.all([this.loginByAccount.delete(account), this.loginDelay.delete(account)]);
        return { locked };
      }
      if (failures >= this.limits.loginDelayAfterFailures) {
        await this.loginDelay.block(account, this.delaySeconds(failures));
      }
      return { locked: false };
    });
  }

  async loginSucceeded(identifier: string, ip: string | null): Promise<void> {
    const account = accountKey(identifier);
    try {
      await Promise.all([
        this.loginByAccount.delete(account),
        this.loginDelay.delete(account),
        // A success is no failure of the address: give back the point beforeLogin took.
        ip ? this.loginByAddress.reward(ip) : undefined,
      ]);
    } catch (error) {
      // The password was right: failing the login now would only punish its owner.
      this.logger.warn({ err: error }, 'could not reset login failure count');
    }
  }

  async beforeTwoFactor(userId: string, ip: string | null): Promise<void> {
    const account = accountKey(userId);
    await this.guard('beforeTwoFactor', async () => {
      const [byAccount, byAddress] = await Promise.all([
        this.twoFactorByAccount.get(account),
        ip ? this.twoFactorByAddress.get(ip) : Promise.resolve(null),
      ]);
      if (byAccount && byAccount.consumedPoints >= this.limits.twoFactorLockAfterFailures) throw new RateLimitedError(remainingMs(byAccount) / 1000);
      if (byAddress && byAddress.consumedPoints >= this.limits.ipFailuresPerWindow) throw new RateLimitedError(remainingMs(byAddress) / 1000);
    });
  }

  async twoFactorFailed(userId: string, ip: string | null): Promise<{ locked: boolean }> {
    const account = accountKey(userId);
    return this.guard('twoFactorFailed', async () => {
      const [locked] = await Promise.all([
        this.twoFactorByAccount.consume(account).then(
          () => false,
          (res: unknown) => {
            // Exactly one failure crosses the threshold (the library blocks the key on it).
            if (res instanceof RateLimiterRes) return res.consumedPoints === this.limits.twoFactorLockAfterFailures;
            throw res;
          },
        ),
        ip ? this.twoFactorByAddress.consume(ip).catch(ignoreOverLimit) : undefined,
      ]);
      return { locked };
    });
  }

  async twoFactorSucceeded(userId: string): Promise<void> {
    try {
      await this.twoFactorByAccount.delete(accountKey(userId));
    } catch (error) {
      this.logger.warn({ err: error }, 'could not reset two-factor failure count');
    }
  }

  async beforeRegister(ip: string | null): Promise<void> {
    if (!ip) return;
    await this.guard('beforeRegister', () => this.registerByAddress.consume(ip).catch(refuse()));
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  /** 2^(failures past the threshold) seconds: 1, 2, 4, ... up to the configured cap. */
  private delaySeconds(failures: number): number {
    return Math.min(2 ** (failures - this.limits.loginDelayAfterFailures), this.limits.loginMaxDelaySeconds);
  }

  /** Limit answers pass through; anything else from the store means it is unreachable: fail closed. */
  private async guard<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof GraphQLError) throw error;
      if (error instanceof RateLimiterRes) throw new RateLimitedError(remainingMs(error) / 1000);
      this.logger.error({ err: error, operation, store: this.store.kind }, 'rate-limit store failed: refusing');
      throw new ServiceUnavailableError();
    }
  }
}

/** Identifiers are case-folded, then hashed: bounded key length, and no emails in the counter store. */
function accountKey(identifier: string): string {
  return sha256Hex(identifier.normalize('NFKC').trim().toLowerCase());
}

function remainingMs(res: RateLimiterRes | null): number {
  return res ? Math.max(res.msBeforeNext, 0) : 0;
}

/** Turns a limiter's over-limit rejection into RATE_LIMITED (retryAfter capped); store errors pass on. */
function refuse(capSeconds?: number): (reason: unknown) => never {
  return (reason) => {
    if (reason instanceof RateLimiterRes) {
      const seconds = remainingMs(reason) / 1000;
      throw new RateLimitedError(capSeconds === undefined ? seconds : Math.min(seconds, capSeconds));
    }
    throw reason;
  };
}

function ignoreOverLimit(reason: unknown): void {
  if (!(reason instanceof RateLimiterRes)) throw reason;
}
