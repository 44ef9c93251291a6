import type { EntityManager } from 'typeorm';
import { rowsOf } from '../db/sql';
import { TwoFactorMethod, type ClaimAccount, type CodeClaim, type FactorAccount, type SecondFactor } from '../sign-in/second-factor';
import { RecoveryCodeEntity } from './recovery-code.entity';
import { generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode, recoveryCodeHashes, type PepperSource } from './recovery-codes';
import { RECOVERY_CODE_COUNT } from './two-factor.constants';

/** Single-use codes printed at enrolment, for when the authenticator is lost. */
export class RecoveryCodeFactor implements SecondFactor {
  readonly method = TwoFactorMethod.RECOVERY_CODE;

  constructor(private readonly pepper: PepperSource) {}

  enrolled(account: FactorAccount, userId: string): boolean | string {
    return account.two_factor_enabled && `EXISTS (SELECT 1 FROM recovery_codes WHERE user_id = ${userId} AND used_at IS NULL)`;
  }

  async consumeCode(m: EntityManager, userId: string, code: string): Promise<boolean> {
    const canonical = normalizeRecoveryCode(code);
    if (!canonical) return false;
    const used = await rowsOf<{ id: string }>(
      m,
      'UPDATE recovery_codes SET used_at = now() WHERE user_id = $1 AND code_hash = ANY($2::text[]) AND used_at IS NULL RETURNING id',
      [userId, recoveryCodeHashes(this.pepper, userId, canonical)],
    );
    return used.length > 0;
  }

  /** A code of the right shape is tried in the sign-in statement; a wrong one spends nothing there. */
  claimCode(account: ClaimAccount, code: string): CodeClaim | null {
    const canonical = normalizeRecoveryCode(code);
    if (!canonical || !account.two_factor_enabled) return null;
    const hashes = recoveryCodeHashes(this.pepper, account.id, canonical);
    return {
      method: this.method,
      spend: (q, userId, gate) =>
        q.with(
          'recovery_spent',
          `UPDATE recovery_codes SET used_at = now()
            WHERE user_id = ${q.bind(userId)}::uuid AND code_hash = ANY(${q.bind(hashes)}::text[]) AND used_at IS NULL
              AND EXISTS (SELECT 1 FROM ${gate})
           RETURNING id`,
        ),
    };
  }

  /** Retires every code of the user and stores the hashes of a new set; the plain codes go to the caller once. */
  async replace(m: EntityManager, userId: string): Promise<string[]> {
    const codes = generateRecoveryCodes(RECOVERY_CODE_COUNT);
    await m.query('DELETE FROM recovery_codes WHERE user_id = $1', [userId]);
    await m.insert(
      RecoveryCodeEntity,
      codes.map((code) => ({ userId, codeHash: hashRecoveryCode(this.pepper, userId, normalizeRecoveryCode(code)!) })),
    );
    return codes;
  }
}
