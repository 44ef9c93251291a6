import { randomBytes } from 'node:crypto';
import { toString as qrCodeSvg } from 'qrcode';
import type { DataSource, EntityManager } from 'typeorm';
import type { Throttle } from '../abuse/throttle';
import { AuditEvent, type AuditRecord, type AuditService } from '../audit/audit.service';
import type { AuthService, ChallengeIssuer } from '../auth/auth.service';
import { TwoFactorChallenge, type AuthPayload } from '../auth/auth.types';
import type { Viewer } from '../context/context';
import type { RequestInfo } from '../context/request-info';
import type { Encryptor } from '../crypto/encryption';
import { newOpaqueToken, sha256Hex } from '../crypto/random';
import type { Sql } from '../db/sql';
import {
  InvalidTokenError,
  InvalidTwoFactorCodeError,
  TwoFactorAlreadyEnabledError,
  TwoFactorNotEnabledError,
  UnauthenticatedError,
} from '../errors/app-errors';
import { USER_COLUMNS, type UserRow } from '../users/user.type';
import { RecoveryCodeEntity } from './recovery-code.entity';
import { generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode, recoveryCodeHashes } from './recovery-codes';
import {
  CHALLENGE_TTL_SECONDS,
  MAX_CHALLENGE_ATTEMPTS,
  MAX_CHALLENGE_TOKEN_CHARS,
  MAX_CODE_INPUT_CHARS,
  RECOVERY_CODE_COUNT,
  TOTP_ALGORITHM,
  TOTP_DIGITS,
  TOTP_PERIOD_SECONDS,
  TOTP_SECRET_BYTES,
  TOTP_WINDOW_STEPS,
} from './two-factor.constants';
import type { VerifyTwoFactorInput } from './two-factor.inputs';
import { RecoveryCodes, TwoFactorSetup } from './two-factor.types';
import { base32Decode, base32Encode, verifyTotp } from './totp';

/** The two pieces of the login flow the second factor needs. */
export type TwoFactorAuth = Pick<AuthService, 'verifyPassword' | 'openSession'>;

export interface TwoFactorOptions {
  /** Shown by authenticator apps next to the account (config.twoFactorIssuer). */
  issuer: string;
}

/** What a code turned out to be; recorded in the audit trail, never the code itself. */
type SecondFactor = 'totp' | 'recovery_code';

/** Where a code was presented, for the audit trail. */
type CodeContext = 'login' | 'confirm' | 'disable' | 'regenerate';

type VerifyOutcome = { kind: 'ok'; payload: AuthPayload } | { kind: 'invalid_token' } | { kind: 'wrong_code' };
type GuardedOutcome<T> = { ok: true; value: T } | { ok: false };

/**
 * Rows of a statement run inside a transaction. TypeORM's plain `query` answers UPDATE and DELETE
 * with [rows, rowCount] and everything else with rows; the structured result is the same for all.
 */
async function rowsOf<T>(m: EntityManager, text: string, values: unknown[]): Promise<T[]> {
  if (!m.queryRunner) throw new Error('rowsOf runs inside a transaction');
  return (await m.queryRunner.query(text, values, true)).records as T[];
}

/** Key URI format of Google Authenticator, which every authenticator app reads. */
export function otpauthUrlOf(issuer: string, account: string, secret: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const query = [
    `secret=${secret}`,
    `issuer=${encodeURIComponent(issuer)}`,
    `algorithm=${TOTP_ALGORITHM}`,
    `digits=${TOTP_DIGITS}`,
    `period=${TOTP_PERIOD_SECONDS}`,
  ].join('&');
  return `otpauth://totp/${label}?${query}`;
}

/**
 * TOTP enrolment, the second step of a login, and the 2FA changes of a signed-in user. Every
 * accepted code is consumed by one atomic UPDATE (a time step per account, a recovery code once),
 * so two requests racing with one code cannot both pass.
 */
export class TwoFactorService implements ChallengeIssuer {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sql: Sql,
    private readonly encryptor: Encryptor,
    private readonly auth: TwoFactorAuth,
    private readonly audit: AuditService,
    private readonly throttle: Throttle,
    private readonly options: TwoFactorOptions,
  ) {}

  /** Starts (or restarts) an enrolment: a new pending secret, shown this once. */
  async enable(viewer: Viewer, password: string): Promise<TwoFactorSetup> {
    const state = await this.stateOf(viewer.userId);
    if (state.two_factor_enabled) throw new TwoFactorAlreadyEnabledError();
    await this.auth.verifyPassword(viewer.userId, password);

    const secret = base32Encode(randomBytes(TOTP_SECRET_BYTES));
    // Conditional: a confirmation that landed meanwhile must not get its secret replaced.
    const updated = await this.sql.one<{ id: string }>(
      'two_factor_set_pending',
      'UPDATE users SET totp_pending_secret_enc = $2, updated_at = now() WHERE id = $1 AND two_factor_enabled = false RETURNING id',
      [viewer.userId, this.encryptor.encrypt(secret, viewer.userId)],
    );
    if (!updated) throw new TwoFactorAlreadyEnabledError();

    const otpauthUrl = otpauthUrlOf(this.options.issuer, state.email, secret);
    // SVG: about 1 ms of event-loop time where a PNG costs 8 (bench), and it scales crisply.
    const svg = await qrCodeSvg(otpauthUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    const qrCodeDataUrl = `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
    return Object.assign(new TwoFactorSetup(), { secret, otpauthUrl, qrCodeDataUrl });
  }

  /** Turns 2FA on with a code of the pending secret; returns the first recovery codes. */
  async confirm(viewer: Viewer, code: string, request: RequestInfo): Promise<RecoveryCodes> {
    const { userId } = viewer;
    await this.throttle.beforeTwoFactor(userId, request.ip);
    const outcome = await this.dataSource.transaction(async (m): Promise<GuardedOutcome<string[]>> => {
      const [user] = await rowsOf<{ two_factor_enabled: boolean; totp_pending_secret_enc: string | null }>(
        m,
        'SELECT two_factor_enabled, totp_pending_secret_enc FROM users WHERE id = $1 FOR UPDATE',
        [userId],
      );
      if (!user) throw new UnauthenticatedError();
      if (user.two_factor_enabled) throw new TwoFactorAlreadyEnabledError();
      if (!user.totp_pending_secret_enc) throw new TwoFactorNotEnabledError();

      const secret = base32Decode(this.encryptor.decrypt(user.totp_pending_secret_enc, userId));
      const step = this.totpStep(secret, code);
      if (step === null) {
        await this.audit.record(m, this.failedEvent(viewer, request, 'confirm'));
        return { ok: false };
      }
      // The confirming step counts as used: the same code cannot then finish a login.
      await m.query(
        `UPDATE users SET two_factor_enabled = true, totp_secret_enc = totp_pending_secret_enc, totp_pending_secret_enc = NULL,
                totp_last_step = $2, updated_at = now()
          WHERE id = $1`,
        [userId, step],
      );
      const codes = await this.replaceRecoveryCodes(m, userId);
      await this.audit.record(m, { ...this.eventBase(viewer, request), type: AuditEvent.TWO_FACTOR_ENABLED });
      return { ok: true, value: codes };
    });
    return this.recoveryCodesOrFail(viewer, request, outcome);
  }

  /** ChallengeIssuer: a correct password on an account with 2FA gets this instead of a session. */
  async issue(userId: string, request: RequestInfo): Promise<TwoFactorChallenge> {
    const token = newOpaqueToken();
    await this.dataSource.transaction(async (m) => {
      await m.query(
        `INSERT INTO two_factor_challenges (user_id, token_hash, expires_at, ip_address, user_agent)
         VALUES ($1, $2, now() + make_interval(secs => $3), $4, $5)`,
        [userId, sha256Hex(token), CHALLENGE_TTL_SECONDS, request.ip, request.userAgent?.slice(0, 512) ?? null],
      );
      await this.audit.record(m, { type: AuditEvent.LOGIN_CHALLENGED, userId, ip: request.ip, userAgent: request.userAgent });
    });
    return Object.assign(new TwoFactorChallenge(), { challengeToken: token, expiresIn: CHALLENGE_TTL_SECONDS });
  }

  /** The second step of a login: a TOTP code or a recovery code against a live challenge opens the session. */
  async verify(input: VerifyTwoFactorInput, request: RequestInfo): Promise<AuthPayload> {
    const token = input.challengeToken;
    if (!token || token.length > MAX_CHALLENGE_TOKEN_CHARS) throw new InvalidTokenError();
    const tokenHash = sha256Hex(token);
    const found = await this.sql.one<{ user_id: string }>(
      'two_factor_live_challenge',
      'SELECT user_id FROM two_factor_challenges WHERE token_hash = $1 AND consumed_at IS NULL AND expires_at > now() AND attempts < $2',
      [tokenHash, MAX_CHALLENGE_ATTEMPTS],
    );
    if (!found) throw new InvalidTokenError();
    const userId = found.user_id;
    await this.throttle.beforeTwoFactor(userId, request.ip);

    const outcome = await this.dataSource.transaction(async (m): Promise<VerifyOutcome> => {
      // Locked and checked again: attempts on one challenge run one at a time, so at most
      // MAX_CHALLENGE_ATTEMPTS codes are ever tried against it, however many arrive at once.
      const [challenge] = await rowsOf<{ id: string; attempts: number; live: boolean }>(
        m,
        `SELECT id, attempts, (consumed_at IS NULL AND expires_at > now()) AS live
           FROM two_factor_challenges WHERE token_hash = $1 FOR UPDATE`,
        [tokenHash],
      );
      if (!challenge || !challenge.live || challenge.attempts >= MAX_CHALLENGE_ATTEMPTS) return { kind: 'invalid_token' };
      const [user] = await rowsOf<UserRow & { totp_secret_enc: string | null; password_changed_since: boolean }>(
        m,
        `SELECT ${USER_COLUMNS}, totp_secret_enc,
                password_changed_at > (SELECT created_at FROM two_factor_challenges WHERE id = $2) AS password_changed_since
           FROM users WHERE id = $1`,
        [userId, challenge.id],
      );
      // 2FA switched off or the password changed since the password step: that half-login is void.
      if (!user || !user.two_factor_enabled || !user.totp_secret_enc || user.password_changed_since) {
        return { kind: 'invalid_token' };
      }

      const factor = await this.consumeCode(m, userId, user.totp_secret_enc, input.code);
      const base = { userId, ip: request.ip, userAgent: request.userAgent };
      if (!factor) {
        await m.query('UPDATE two_factor_challenges SET attempts = attempts + 1 WHERE id = $1', [challenge.id]);
        await this.audit.record(m, {
          ...base,
          type: AuditEvent.TWO_FACTOR_CHALLENGE_FAILED,
          data: { context: 'login' satisfies CodeContext, attempt: challenge.attempts + 1 },
        });
        return { kind: 'wrong_code' };
      }
      await m.query('UPDATE two_factor_challenges SET consumed_at = now() WHERE id = $1', [challenge.id]);
      await this.audit.record(
        m,
        { ...base, type: AuditEvent.LOGIN_SUCCEEDED, data: { secondFactor: factor } },
        ...(factor === 'recovery_code' ? [{ ...base, type: AuditEvent.RECOVERY_CODE_USED, data: { context: 'login' } }] : []),
      );
      return { kind: 'ok', payload: await this.auth.openSession(m, user, request) };
    });

    if (outcome.kind === 'invalid_token') throw new InvalidTokenError();
    if (outcome.kind === 'wrong_code') {
      await this.afterFailure({ userId }, request);
      throw new InvalidTwoFactorCodeError();
    }
    await this.throttle.twoFactorSucceeded(userId);
    return outcome.payload;
  }

  /** Turns 2FA off: needs the password and a code; the secret and every recovery code go. */
  async disable(viewer: Viewer, password: string, code: string, request: RequestInfo): Promise<boolean> {
    const state = await this.stateOf(viewer.userId);
    if (!state.two_factor_enabled) throw new TwoFactorNotEnabledError();
    await this.auth.verifyPassword(viewer.userId, password);
    return this.withSecondFactor(viewer, code, request, 'disable', async (m, factor) => {
      await m.query(
        `UPDATE users SET two_factor_enabled = false, totp_secret_enc = NULL, totp_pending_secret_enc = NULL,
                totp_last_step = NULL, updated_at = now()
          WHERE id = $1`,
        [viewer.userId],
      );
      await m.query('DELETE FROM recovery_codes WHERE user_id = $1', [viewer.userId]);
      await this.audit.record(m, { ...this.eventBase(viewer, request), type: AuditEvent.TWO_FACTOR_DISABLED, data: { secondFactor: factor } });
      return true;
    });
  }

  /** A new set of recovery codes; every older code stops working. */
  async regenerateRecoveryCodes(viewer: Viewer, code: string, request: RequestInfo): Promise<RecoveryCodes> {
    const state = await this.stateOf(viewer.userId);
    if (!state.two_factor_enabled) throw new TwoFactorNotEnabledError();
    const codes = await this.withSecondFactor(viewer, code, request, 'regenerate', async (m, factor) => {
      const fresh = await this.replaceRecoveryCodes(m, viewer.userId);
      await this.audit.record(m, { ...this.eventBase(viewer, request), type: AuditEvent.RECOVERY_CODES_REGENERATED, data: { secondFactor: factor } });
      return fresh;
    });
    return Object.assign(new RecoveryCodes(), { codes });
  }

  /**
   * Runs `action` in the transaction that consumed a valid code of an enabled account (row locked).
   * A wrong code commits only its audit event, then counts toward the account's 2FA throttle.
   */
  private async withSecondFactor<T>(
    viewer: Viewer,
    code: string,
    request: RequestInfo,
    context: CodeContext,
    action: (m: EntityManager, factor: SecondFactor) => Promise<T>,
  ): Promise<T> {
    await this.throttle.beforeTwoFactor(viewer.userId, request.ip);
    const outcome = await this.dataSource.transaction(async (m): Promise<GuardedOutcome<T>> => {
      const [user] = await rowsOf<{ two_factor_enabled: boolean; totp_secret_enc: string | null }>(
        m,
        'SELECT two_factor_enabled, totp_secret_enc FROM users WHERE id = $1 FOR UPDATE',
        [viewer.userId],
      );
      if (!user) throw new UnauthenticatedError();
      if (!user.two_factor_enabled || !user.totp_secret_enc) throw new TwoFactorNotEnabledError();
      const factor = await this.consumeCode(m, viewer.userId, user.totp_secret_enc, code);
      if (!factor) {
        await this.audit.record(m, this.failedEvent(viewer, request, context));
        return { ok: false };
      }
      if (factor === 'recovery_code') {
        await this.audit.record(m, { ...this.eventBase(viewer, request), type: AuditEvent.RECOVERY_CODE_USED, data: { context } });
      }
      return { ok: true, value: await action(m, factor) };
    });
    if (!outcome.ok) {
      await this.afterFailure(viewer, request);
      throw new InvalidTwoFactorCodeError();
    }
    await this.throttle.twoFactorSucceeded(viewer.userId);
    return outcome.value;
  }

  /**
   * Checks a TOTP code or a recovery code and marks it used in the same statement that checks it was
   * unused, so of two racing requests exactly one gets the row back.
   */
  private async consumeCode(m: EntityManager, userId: string, secretEnc: string, code: string): Promise<SecondFactor | null> {
    if (typeof code !== 'string' || code.length > MAX_CODE_INPUT_CHARS) return null;
    const compact = code.replace(/\s/g, '');
    if (compact.length === TOTP_DIGITS) {
      const secret = base32Decode(this.encryptor.decrypt(secretEnc, userId));
      const step = this.totpStep(secret, compact);
      if (step === null) return null;
      const marked = await rowsOf<{ id: string }>(
        m,
        'UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2) RETURNING id',
        [userId, step],
      );
      return marked.length ? 'totp' : null;
    }
    const canonical = normalizeRecoveryCode(code);
    if (!canonical) return null;
    const used = await rowsOf<{ id: string }>(
      m,
      'UPDATE recovery_codes SET used_at = now() WHERE user_id = $1 AND code_hash = ANY($2::text[]) AND used_at IS NULL RETURNING id',
      [userId, recoveryCodeHashes(this.encryptor, userId, canonical)],
    );
    return used.length ? 'recovery_code' : null;
  }

  private totpStep(secret: Uint8Array, code: string): number | null {
    if (typeof code !== 'string' || code.length > MAX_CODE_INPUT_CHARS) return null;
    return verifyTotp(secret, code.replace(/\s/g, ''), {
      algorithm: TOTP_ALGORITHM,
      digits: TOTP_DIGITS,
      periodSeconds: TOTP_PERIOD_SECONDS,
      window: TOTP_WINDOW_STEPS,
    });
  }

  /** Retires every code of the user and stores the hashes of a new set; the plain codes go to the caller once. */
  private async replaceRecoveryCodes(m: EntityManager, userId: string): Promise<string[]> {
    const codes = generateRecoveryCodes(RECOVERY_CODE_COUNT);
    await m.query('DELETE FROM recovery_codes WHERE user_id = $1', [userId]);
    await m.insert(
      RecoveryCodeEntity,
      codes.map((code) => ({ userId, codeHash: hashRecoveryCode(this.encryptor, userId, normalizeRecoveryCode(code)!) })),
    );
    return codes;
  }

  private async recoveryCodesOrFail(viewer: Viewer, request: RequestInfo, outcome: GuardedOutcome<string[]>): Promise<RecoveryCodes> {
    if (!outcome.ok) {
      await this.afterFailure(viewer, request);
      throw new InvalidTwoFactorCodeError();
    }
    await this.throttle.twoFactorSucceeded(viewer.userId);
    return Object.assign(new RecoveryCodes(), { codes: outcome.value });
  }

  /** A wrong code: counts toward the account's 2FA throttle; the lock it may cause is audited too. */
  private async afterFailure(actor: Pick<Viewer, 'userId'> & Partial<Viewer>, request: RequestInfo): Promise<void> {
    const { locked } = await this.throttle.twoFactorFailed(actor.userId, request.ip);
    if (!locked) return;
    await this.dataSource.transaction((m) =>
      this.audit.record(m, { type: AuditEvent.TWO_FACTOR_LOCKED, userId: actor.userId, sessionId: actor.sessionId ?? null, ip: request.ip, userAgent: request.userAgent }),
    );
  }

  private failedEvent(viewer: Viewer, request: RequestInfo, context: CodeContext): AuditRecord {
    return { ...this.eventBase(viewer, request), type: AuditEvent.TWO_FACTOR_CHALLENGE_FAILED, data: { context } };
  }

  private eventBase(viewer: Viewer, request: RequestInfo): Omit<AuditRecord, 'type'> {
    return { userId: viewer.userId, sessionId: viewer.sessionId, ip: request.ip, userAgent: request.userAgent };
  }

  private async stateOf(userId: string): Promise<{ email: string; two_factor_enabled: boolean }> {
    const row = await this.sql.one<{ email: string; two_factor_enabled: boolean }>(
      'two_factor_state',
      'SELECT email, two_factor_enabled FROM users WHERE id = $1',
      [userId],
    );
    // A valid access token of an account deleted since.
    if (!row) throw new UnauthenticatedError();
    return row;
  }
}
