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
  /**
   * Whether `account` has this factor: an answer from the account row alone, or an SQL boolean
   * expression (an EXISTS on the factor's own table, `userId` being the placeholder of the account's
   * id) that the pipeline evaluates inside the statement issuing the challenge, so that however
   * many factors ask, the login pays no round trip for them.
   */
  enrolled(account: FactorAccount, userId: string): boolean | string;
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

/** What `SecondFactors.enrolment` adds to a statement, and how to read its answer. */
export interface FactorEnrolment {
  select: string;
  methods(row: Record<string, unknown>): TwoFactorMethod[];
}

/** Every second factor of the service, in the order the modules list them. */
export class SecondFactors {
  constructor(private readonly factors: readonly SecondFactor[]) {}

  /**
   * The factors `account` has, asked within the caller's statement `q`: `select` is the list of
   * columns to select (the factors that answer in SQL, `true` when none does), `methods` reads them
   * back from the statement's row.
   */
  enrolment(account: FactorAccount, q: Statement): FactorEnrolment {
    const userId = q.bind(account.id);
    const answers = this.factors.map((f) => f.enrolled(account, `${userId}::uuid`));
    const select = answers.flatMap((a, i) => (typeof a === 'string' ? [`(${a}) AS enrolled_${i}`] : []));
    return {
      select: select.length ? select.join(', ') : 'true',
      methods: (row) => this.factors.filter((_, i) => (typeof answers[i] === 'string' ? row[`enrolled_${i}`] === true : answers[i])).map((f) => f.method),
    };
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
