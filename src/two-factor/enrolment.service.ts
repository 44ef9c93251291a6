import { randomBytes } from 'node:crypto';
import { toString as qrCodeSvg } from 'qrcode';
import type { EntityManager } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import type { Viewer } from '../context/viewer';
import type { Encryptor } from '../crypto/encryption';
import type { Sql } from '../db/sql';
import { CoreErrors } from '../errors/core-errors';
import type { SecurityNotices } from '../mail/security-notices';
import { rowsOf } from '../db/sql';
import { eventBase, type SecondFactorCheck } from '../sign-in/second-factor-check';
import { SignInEvent } from '../sign-in/sign-in.events';
import type { RecoveryCodeFactor } from './recovery-code.factor';
import type { TotpFactor } from './totp.factor';
import { base32Encode } from './totp';
import { TOTP_ALGORITHM, TOTP_DIGITS, TOTP_PERIOD_SECONDS, TOTP_SECRET_BYTES } from './two-factor.constants';
import { TwoFactorErrors } from './two-factor.errors';
import { TwoFactorEvent } from './two-factor.events';
import { RecoveryCodes, TwoFactorSetup } from './two-factor.types';

/** What enrolment needs of the password method: the re-check of a signed-in user's password. */
export interface PasswordReCheck {
  verifyPassword(userId: string, password: string, request: RequestInfo): Promise<unknown>;
}

/** Key URI format of Google Authenticator, which every authenticator app reads. */
export function otpauthUrlOf(issuer: string, account: string, secret: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const query = [`secret=${secret}`, `issuer=${encodeURIComponent(issuer)}`, `algorithm=${TOTP_ALGORITHM}`, `digits=${TOTP_DIGITS}`, `period=${TOTP_PERIOD_SECONDS}`];
  return `otpauth://totp/${label}?${query.join('&')}`;
}

/** TOTP enrolment and the 2FA changes of a signed-in user (turn off, new recovery codes). */
export class TwoFactorEnrolment {
  constructor(
    private readonly sql: Sql,
    private readonly encryptor: Encryptor,
    private readonly passwords: PasswordReCheck,
    private readonly totp: TotpFactor,
    private readonly recoveryCodes: RecoveryCodeFactor,
    private readonly secondFactor: SecondFactorCheck,
    private readonly audit: AuditService,
    private readonly notices: SecurityNotices,
    private readonly issuer: string,
  ) {}

  /** Starts (or restarts) an enrolment: a new pending secret, shown this once. */
  async enable(viewer: Viewer, password: string, request: RequestInfo): Promise<TwoFactorSetup> {
    const state = await this.stateOf(viewer.userId);
    if (state.two_factor_enabled) throw TwoFactorErrors.TWO_FACTOR_ALREADY_ENABLED();
    await this.passwords.verifyPassword(viewer.userId, password, request);

    const secret = base32Encode(randomBytes(TOTP_SECRET_BYTES));
    // Conditional: a confirmation that landed meanwhile must not get its secret replaced.
    const updated = await this.sql.one<{ id: string }>(
      'two_factor_set_pending',
      'UPDATE users SET totp_pending_secret_enc = $2, updated_at = now() WHERE id = $1 AND two_factor_enabled = false RETURNING id',
      [viewer.userId, this.encryptor.encrypt(secret, viewer.userId)],
    );
    if (!updated) throw TwoFactorErrors.TWO_FACTOR_ALREADY_ENABLED();

    const otpauthUrl = otpauthUrlOf(this.issuer, state.email, secret);
    // SVG: about 1 ms of event-loop time where a PNG costs 8 (bench), and it scales crisply.
    const svg = await qrCodeSvg(otpauthUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    const qrCodeDataUrl = `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
    return Object.assign(new TwoFactorSetup(), { secret, otpauthUrl, qrCodeDataUrl });
  }

  /** Turns 2FA on with a code of the pending secret; returns the first recovery codes. */
  async confirm(viewer: Viewer, code: string, request: RequestInfo): Promise<RecoveryCodes> {
    const { userId } = viewer;
    const codes = await this.secondFactor.withAttempt(viewer, request, async (m) => {
      const [user] = await rowsOf<{ two_factor_enabled: boolean; totp_pending_secret_enc: string | null }>(
        m,
        'SELECT two_factor_enabled, totp_pending_secret_enc FROM users WHERE id = $1 FOR UPDATE',
        [userId],
      );
      if (!user) throw CoreErrors.UNAUTHENTICATED();
      if (user.two_factor_enabled) throw TwoFactorErrors.TWO_FACTOR_ALREADY_ENABLED();
      if (!user.totp_pending_secret_enc) throw TwoFactorErrors.TWO_FACTOR_NOT_ENABLED();

      const step = typeof code === 'string' ? this.totp.stepOf(this.encryptor.decrypt(user.totp_pending_secret_enc, userId), code) : null;
      if (step === null) {
        await this.audit.record(m, { ...eventBase(viewer, request), type: SignInEvent.TWO_FACTOR_CHALLENGE_FAILED, data: { context: 'confirm' } });
        return { ok: false };
      }
      // The confirming step counts as used: the same code cannot then finish a login.
      await m.query(
        `UPDATE users SET two_factor_enabled = true, totp_secret_enc = totp_pending_secret_enc, totp_pending_secret_enc = NULL,
                totp_last_step = $2, updated_at = now()
          WHERE id = $1`,
        [userId, step],
      );
      const fresh = await this.recoveryCodes.replace(m, userId);
      await this.audit.record(m, { ...eventBase(viewer, request), type: TwoFactorEvent.TWO_FACTOR_ENABLED });
      return { ok: true, value: fresh };
    });
    return Object.assign(new RecoveryCodes(), { codes });
  }

  /** Turns 2FA off: needs the password and a code; the secret and every recovery code go. */
  async disable(viewer: Viewer, password: string, code: string, request: RequestInfo): Promise<boolean> {
    const state = await this.stateOf(viewer.userId);
    if (!state.two_factor_enabled) throw TwoFactorErrors.TWO_FACTOR_NOT_ENABLED();
    await this.passwords.verifyPassword(viewer.userId, password, request);
    return this.secondFactor.run(viewer, code, request, 'disable', (m) => this.lockEnabled(m, viewer.userId), async (m, method) => {
      await m.query(
        `UPDATE users SET two_factor_enabled = false, totp_secret_enc = NULL, totp_pending_secret_enc = NULL,
                totp_last_step = NULL, updated_at = now()
          WHERE id = $1`,
        [viewer.userId],
      );
      await m.query('DELETE FROM recovery_codes WHERE user_id = $1', [viewer.userId]);
      await this.audit.record(m, { ...eventBase(viewer, request), type: TwoFactorEvent.TWO_FACTOR_DISABLED, data: { secondFactor: method.toLowerCase() } });
      await this.notices.notify(m, viewer.userId, 'two_factor_disabled');
      return true;
    });
  }

  /** A new set of recovery codes; every older code stops working. */
  async regenerateRecoveryCodes(viewer: Viewer, code: string, request: RequestInfo): Promise<RecoveryCodes> {
    const state = await this.stateOf(viewer.userId);
    if (!state.two_factor_enabled) throw TwoFactorErrors.TWO_FACTOR_NOT_ENABLED();
    const codes = await this.secondFactor.run(viewer, code, request, 'regenerate', (m) => this.lockEnabled(m, viewer.userId), async (m, method) => {
      const fresh = await this.recoveryCodes.replace(m, viewer.userId);
      await this.audit.record(m, { ...eventBase(viewer, request), type: TwoFactorEvent.RECOVERY_CODES_REGENERATED, data: { secondFactor: method.toLowerCase() } });
      return fresh;
    });
    return Object.assign(new RecoveryCodes(), { codes });
  }

  /** Locks the account row for the change and checks 2FA is (still) on. */
  private async lockEnabled(m: EntityManager, userId: string): Promise<void> {
    const [user] = await rowsOf<{ two_factor_enabled: boolean }>(m, 'SELECT two_factor_enabled FROM users WHERE id = $1 FOR UPDATE', [userId]);
    if (!user) throw CoreErrors.UNAUTHENTICATED();
    if (!user.two_factor_enabled) throw TwoFactorErrors.TWO_FACTOR_NOT_ENABLED();
  }

  private async stateOf(userId: string): Promise<{ email: string; two_factor_enabled: boolean }> {
    const row = await this.sql.one<{ email: string; two_factor_enabled: boolean }>('two_factor_state', 'SELECT email, two_factor_enabled FROM users WHERE id = $1', [userId]);
    // A valid access token of an account deleted since.
    if (!row) throw CoreErrors.UNAUTHENTICATED();
    return row;
  }
}
