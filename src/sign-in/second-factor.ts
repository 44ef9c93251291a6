import type { EntityManager } from 'typeorm';

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
}

/** Every second factor of the service, in the order the modules list them. */
export class SecondFactors {
  constructor(private readonly factors: readonly SecondFactor[]) {}

  async methodsOf(account: FactorAccount, db: Queryable): Promise<TwoFactorMethod[]> {
    const enrolled = await Promise.all(this.factors.map((f) => f.isEnrolled(account, db)));
    return this.factors.filter((_, i) => enrolled[i]).map((f) => f.method);
  }

  /** The factor that accepted and spent the code, or null: a wrong, used or replayed code. */
  async consumeCode(m: EntityManager, userId: string, code: string): Promise<TwoFactorMethod | null> {
    for (const factor of this.factors) {
      if (factor.consumeCode && (await factor.consumeCode(m, userId, code))) return factor.method;
    }
    return null;
  }
}
