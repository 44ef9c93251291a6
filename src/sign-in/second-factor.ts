import type { EntityManager } from 'typeorm';
import type { Statement } from '../db/statement';

export const TwoFactorMethod = {
  TOTP: 'TOTP',
  RECOVERY_CODE: 'RECOVERY_CODE',
  PASSKEY: 'PASSKEY',
} as const;
export type TwoFactorMethod = (typeof TwoFactorMethod)[keyof typeof TwoFactorMethod];

/** What a factor may look at to tell whether an account has it. */
export interface FactorAccount {
  id: string;
  two_factor_enabled: boolean;
}

/** Runs one statement; an EntityManager inside a transaction, or the pool outside one. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

/** The account row as the sign-in statement read it: `FactorAccount` plus each factor's `accountColumns`. */
export type ClaimAccount = FactorAccount & Record<string, unknown>;

/**
 * A proof checked in memory, to be spent inside the one statement that also spends the challenge
 * and opens the session (the fast path of the 2FA step).
 */
export interface CodeClaim {
  readonly method: TwoFactorMethod;
  /**
   * Adds the step(s) that spend the proof for `userId` once `gate` (a FROM clause) yields a row, and
   * returns the step that yields a row only when the proof was spent. Spending must check the proof
   * is still unspent in the same UPDATE that spends it (racing requests: one wins).
   */
  spend(q: Statement, userId: string, gate: string): string;
}

/**
 * One kind of second factor (TOTP, recovery codes; passkeys add theirs). A module contributes its
 * factors (FeatureModule.secondFactors); the sign-in pipeline asks each whether an account has it
 * (TwoFactorChallenge.methods) and, for codes, lets each try the code in turn.
 */
export interface SecondFactor {
  readonly method: TwoFactorMethod;
  isEnrolled(account: FactorAccount, db: Queryable): Promise<boolean>;
  /** Code factors only: checks `code` and spends it in the same statement (racing requests: one wins). */
  consumeCode?(m: EntityManager, userId: string, code: string): Promise<boolean>;
  /** Columns of `users` this factor's `claimCode` needs; read with the challenge, in the same statement. */
  readonly accountColumns?: readonly string[];
  /**
   * Fast path, optional: checks `code` against the account row without writing and returns how to
   * spend it, or null (not this factor's code, or wrong). A claim that fails to spend (a racing
   * request won) sends the step down the `consumeCode` path, which gives the verdict.
   */
  claimCode?(account: ClaimAccount, code: string): CodeClaim | null;
}

/** Every second factor of the service, in the order the modules list them. */
export class SecondFactors {
  constructor(private readonly factors: readonly SecondFactor[]) {}

  async methodsOf(account: FactorAccount, db: Queryable): Promise<TwoFactorMethod[]> {
    const enrolled = await Promise.all(this.factors.map((f) => f.isEnrolled(account, db)));
    return this.factors.filter((_, i) => enrolled[i]).map((f) => f.method);
  }

  /** Every factor's `accountColumns`, for the statement that reads a challenge with its account. */
  accountColumns(): string[] {
    const columns = new Set(this.factors.flatMap((f) => f.accountColumns ?? []));
    for (const c of columns) if (!/^[a-z_][a-z0-9_]*$/.test(c)) throw new Error(`bad account column ${c}`);
    return [...columns];
  }

  /** The first factor's claim on `code`, or null: no fast path (the code is wrong, or no factor offers one). */
  claimCode(account: ClaimAccount, code: string): CodeClaim | null {
    for (const factor of this.factors) {
      const claim = factor.claimCode?.(account, code) ?? null;
      if (claim) return claim;
    }
    return null;
  }

  /** The factor that accepted and spent the code, or null: a wrong, used or replayed code. */
  async consumeCode(m: EntityManager, userId: string, code: string): Promise<TwoFactorMethod | null> {
    for (const factor of this.factors) {
      if (factor.consumeCode && (await factor.consumeCode(m, userId, code))) return factor.method;
    }
    return null;
  }
}
