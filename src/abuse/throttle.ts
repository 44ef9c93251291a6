/**
 * Where the abuse limits plug into the flows. Every method that may refuse throws RateLimitedError
 * (RATE_LIMITED with retryAfter). Keys are built by the throttle itself from what it is given.
 */
export interface Throttle {
  /**
   * Before any password work of a login: the account (case-folded identifier) and the address.
   * Counts the attempt as a failure up front (so parallel guesses cannot all pass the check):
   * every call must end in loginFailed or loginSucceeded.
   */
  beforeLogin(identifier: string, ip: string | null): Promise<void>;
  /** A wrong password or unknown identifier. Returns whether this failure locked the account. */
  loginFailed(identifier: string, ip: string | null): Promise<{ locked: boolean }>;
  /** A right password: the account's failure count starts again, and the address gets its point back. */
  loginSucceeded(identifier: string, ip: string | null): Promise<void>;
  /** Before checking a second-factor code for this account (challenge, disable, regenerate). */
  beforeTwoFactor(userId: string, ip: string | null): Promise<void>;
  twoFactorFailed(userId: string, ip: string | null): Promise<{ locked: boolean }>;
  twoFactorSucceeded(userId: string): Promise<void>;
  /** Before creating an account from this address. */
  beforeRegister(ip: string | null): Promise<void>;
  close(): Promise<void>;
}

/** No limits at all: for unit tests of the flows themselves. */
export class NoThrottle implements Throttle {
  async beforeLogin(): Promise<void> {}
  async loginFailed(): Promise<{ locked: boolean }> {
    return { locked: false };
  }
  async loginSucceeded(): Promise<void> {}
  async beforeTwoFactor(): Promise<void> {}
  async twoFactorFailed(): Promise<{ locked: boolean }> {
    return { locked: false };
  }
  async twoFactorSucceeded(): Promise<void> {}
  async beforeRegister(): Promise<void> {}
  async close(): Promise<void> {}
}
