import type { EntityManager } from 'typeorm';
import type { Clock } from '../app/clock';
import type { Encryptor } from '../crypto/encryption';
import { rowsOf } from '../db/sql';
import { TwoFactorMethod, type ClaimAccount, type CodeClaim, type FactorAccount, type SecondFactor } from '../sign-in/second-factor';
import { base32Decode, verifyTotp } from './totp';
import { TOTP_ALGORITHM, TOTP_DIGITS, TOTP_PERIOD_SECONDS, TOTP_WINDOW_STEPS } from './two-factor.constants';

/** RFC 6238 codes from an authenticator app; each time step is accepted once per account. */
export class TotpFactor implements SecondFactor {
  readonly method = TwoFactorMethod.TOTP;
  readonly accountColumns = ['totp_secret_enc', 'totp_last_step'] as const;

  constructor(
    private readonly encryptor: Encryptor,
    private readonly clock: Clock,
  ) {}

  /** The switch on the account row is the enrolment: no statement needed. */
  enrolled(account: FactorAccount): boolean {
    return account.two_factor_enabled;
  }

  async consumeCode(m: EntityManager, userId: string, code: string): Promise<boolean> {
    const compact = code.replace(/\s/g, '');
    if (compact.length !== TOTP_DIGITS) return false;
    const [row] = await rowsOf<{ totp_secret_enc: string | null }>(m, 'SELECT totp_secret_enc FROM users WHERE id = $1 AND two_factor_enabled', [userId]);
    if (!row?.totp_secret_enc) return false;
    const step = this.stepOf(this.encryptor.decrypt(row.totp_secret_enc, userId), compact);
    if (step === null) return false;
    // Marks the step used in the statement that checks it was unused: of two racing requests, one wins.
    const marked = await rowsOf<{ id: string }>(
      m,
      'UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2) RETURNING id',
      [userId, step],
    );
    return marked.length > 0;
  }

  claimCode(account: ClaimAccount, code: string): CodeClaim | null {
    const compact = code.replace(/\s/g, '');
    const secret = account.totp_secret_enc;
    if (compact.length !== TOTP_DIGITS || !account.two_factor_enabled || typeof secret !== 'string') return null;
    const step = this.stepOf(this.encryptor.decrypt(secret, account.id), compact);
    const last = account.totp_last_step === null || account.totp_last_step === undefined ? null : Number(account.totp_last_step);
    if (step === null || (last !== null && step <= last)) return null;
    return {
      method: this.method,
      // The same check-and-mark as consumeCode, as a step of the sign-in statement.
      spend: (q, userId, gate) =>
        q.with(
          'totp_spent',
          `UPDATE users SET totp_last_step = ${q.bind(step)}::bigint
            WHERE id = ${q.bind(userId)}::uuid AND two_factor_enabled AND (totp_last_step IS NULL OR totp_last_step < ${q.bind(step)}::bigint)
              AND EXISTS (SELECT 1 FROM ${gate})
           RETURNING id`,
        ),
    };
  }

  /** The time step a code of this (base32) secret belongs to, or null. */
  stepOf(base32Secret: string, code: string): number | null {
    return verifyTotp(base32Decode(base32Secret), code.replace(/\s/g, ''), {
      algorithm: TOTP_ALGORITHM,
      digits: TOTP_DIGITS,
      periodSeconds: TOTP_PERIOD_SECONDS,
      window: TOTP_WINDOW_STEPS,
      nowMs: this.clock.now(),
    });
  }
}
