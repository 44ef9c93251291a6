import type { EntityManager } from 'typeorm';
import type { Clock } from '../app/clock';
import type { Encryptor } from '../crypto/encryption';
import { rowsOf } from '../sign-in/challenges';
import { TwoFactorMethod, type FactorAccount, type SecondFactor } from '../sign-in/second-factor';
import { base32Decode, verifyTotp } from './totp';
import { TOTP_ALGORITHM, TOTP_DIGITS, TOTP_PERIOD_SECONDS, TOTP_WINDOW_STEPS } from './two-factor.constants';

/** RFC 6238 codes from an authenticator app; each time step is accepted once per account. */
export class TotpFactor implements SecondFactor {
  readonly method = TwoFactorMethod.TOTP;

  constructor(
    private readonly encryptor: Encryptor,
    private readonly clock: Clock,
  ) {}

  async isEnrolled(account: FactorAccount): Promise<boolean> {
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
