import type { DataSource, EntityManager } from 'typeorm';
import type { Throttle } from '../abuse/throttle';
import type { AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import { sha256Hex } from '../crypto/random';
import { AppError } from '../errors/app-error';
import { CoreErrors } from '../errors/core-errors';
import type { AuthPayload } from '../sessions/auth-payload.type';
import { rowsOf } from '../db/sql';
import type { Challenges } from '../sign-in/challenges';
import { TwoFactorMethod } from '../sign-in/second-factor';
import { signInMethod } from '../sign-in/sign-in-method';
import { SIGN_IN_COLUMNS, type SignInAccount, type SignInService } from '../sign-in/sign-in.service';
import { SignInErrors } from '../sign-in/sign-in.errors';
import { ceremonyProblem, type Ceremonies, type CeremonyKind } from './ceremonies';
import type { PasskeyRejections } from './passkey-rejections';
import { toOptions } from './passkey-registration.service';
import type { PasskeyStore, StoredCredential } from './passkey-store';
import type { PasskeyOptions } from './passkey.types';
import { PasskeyLimit } from './passkeys.config';
import { PasskeyErrors } from './passkeys.errors';
import { PasskeyEvent, type RejectionReason } from './passkeys.events';
import { credentialIdOf, userHandleOf, type WebAuthn } from './webauthn';

/**
 * A user-verified passkey is two factors in one: something you have (the device's key) unlocked by
 * something you are or know (fingerprint, face, PIN). The pipeline reads this declaration and opens
 * a session without a TwoFactorChallenge; finishPasskeyLogin demands UV, so nothing weaker gets it.
 */
export const PASSKEY_METHOD = signInMethod('passkey', { provesSecondFactor: true });

type Checked = { ok: true; credential: StoredCredential } | { ok: false };
type LoginOutcome = { ok: true; payload: AuthPayload } | { ok: false };

/** Passwordless sign-in with a discoverable passkey, and a passkey as the second step of a password sign-in. */
export class PasskeySignIn {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PasskeyStore,
    private readonly ceremonies: Ceremonies,
    private readonly webauthn: WebAuthn,
    private readonly signIn: SignInService,
    private readonly challenges: Challenges,
    private readonly throttle: Throttle,
    private readonly audit: AuditService,
    private readonly rejections: PasskeyRejections,
  ) {}

  /** No identifier: the authenticator offers the person its passkeys for this site (discoverable credentials). */
  async startLogin(request: RequestInfo): Promise<PasskeyOptions> {
    await this.throttle.count([{ policy: PasskeyLimit.CEREMONIES_BY_ADDRESS, key: request.ip }]);
    const ceremony = await this.ceremonies.issue('sign_in', null);
    const options = await this.webauthn.authenticationOptions({ challenge: ceremony.challenge, allow: [], userVerification: 'required' });
    return toOptions(ceremony.id, options);
  }

  /** Counted per client address before the assertion is looked at, like every credential check. */
  async finishLogin(challengeId: string, response: Record<string, unknown>, request: RequestInfo): Promise<AuthPayload> {
    return this.throttle.attempt([{ policy: PasskeyLimit.FAILURES_BY_ADDRESS, key: request.ip }], async (attempt) => {
      // Always commits (a refusal returns): the ceremony is spent and the refusal audited either way.
      const outcome = await this.dataSource.transaction((m) => this.login(m, challengeId, response, request));
      if (!outcome.ok) {
        await attempt.failed();
        throw PasskeyErrors.PASSKEY_REJECTED();
      }
      await attempt.succeeded();
      return outcome.payload;
    });
  }

  /** Options naming the account's passkeys, for a sign-in that got a TwoFactorChallenge. */
  async startSecondFactor(challengeToken: string, request: RequestInfo): Promise<PasskeyOptions> {
    const userId = await this.challenges.ownerOf(challengeToken);
    if (!userId) throw CoreErrors.INVALID_TOKEN();
    const allow = await this.store.descriptors(userId);
    if (allow.length === 0) throw PasskeyErrors.PASSKEY_REJECTED();
    await this.throttle.count([{ policy: PasskeyLimit.CEREMONIES_BY_ADDRESS, key: request.ip }]);
    const ceremony = await this.ceremonies.issue('second_factor', userId, sha256Hex(challengeToken));
    // User presence is enough here: the password was the first factor.
    const options = await this.webauthn.authenticationOptions({ challenge: ceremony.challenge, allow, userVerification: 'discouraged' });
    return toOptions(ceremony.id, options);
  }

  /**
   * The second step through the pipeline's own completeChallenge: counted on the second-factor
   * limits (SecondFactorLimit) with TOTP and recovery codes, a wrong answer spends the challenge's
   * attempts the same way. Its refusal is PASSKEY_REJECTED (CONTRACT.md) rather than a code error.
   */
  async verifySecondFactor(challengeToken: string, challengeId: string, response: Record<string, unknown>, request: RequestInfo): Promise<AuthPayload> {
    try {
      return await this.signIn.completeChallenge(challengeToken, request, async (m, account) => {
        const checked = await this.checkAssertion(m, 'second_factor', challengeId, response, request, account, sha256Hex(challengeToken));
        return checked.ok ? TwoFactorMethod.PASSKEY : null;
      });
    } catch (error) {
      if (error instanceof AppError && error.code === WRONG_ANSWER) throw PasskeyErrors.PASSKEY_REJECTED();
      throw error;
    }
  }

  private async login(m: EntityManager, challengeId: string, response: Record<string, unknown>, request: RequestInfo): Promise<LoginOutcome> {
    const checked = await this.checkAssertion(m, 'sign_in', challengeId, response, request, null, null);
    if (!checked.ok) return { ok: false };
    const { credential } = checked;
    const [account] = await rowsOf<SignInAccount>(m, `SELECT ${SIGN_IN_COLUMNS} FROM users WHERE id = $1`, [credential.user_id]);
    if (!account) return { ok: false }; // deleted while the assertion was being checked
    await this.audit.record(m, { type: PasskeyEvent.LOGIN, userId: account.id, ip: request.ip, userAgent: request.userAgent, data: { passkeyId: credential.id } });
    // The pipeline refuses a locked account here (after the assertion was checked), rolling this back.
    const result = await this.signIn.complete(account, PASSKEY_METHOD, request, { manager: m });
    if (!('accessToken' in result)) throw new Error('a user-verified passkey proves two factors: the pipeline must open a session');
    return { ok: true, payload: result };
  }

  /**
   * Takes the ceremony, finds the credential and verifies the assertion, then advances the counter.
   * `owner` null: a passwordless sign-in (the credential names the account; UV required); else the
   * account of the TwoFactorChallenge (the credential must be one of its own; presence is enough).
   */
  private async checkAssertion(
    m: EntityManager,
    kind: CeremonyKind,
    challengeId: string,
    response: Record<string, unknown>,
    request: RequestInfo,
    owner: SignInAccount | null,
    binding: string | null,
  ): Promise<Checked> {
    const refuse = async (reason: RejectionReason, extra: { userId?: string; passkeyId?: string; detail?: string; data?: Record<string, unknown> } = {}): Promise<Checked> => {
      await this.rejections.record(m, reason, { ceremony: kind, request, userId: owner?.id ?? null, ...extra });
      return { ok: false };
    };
    const ceremony = await this.ceremonies.take(m, challengeId);
    const problem = ceremonyProblem(ceremony, kind, owner?.id ?? null, binding);
    if (problem || !ceremony) return refuse(problem ?? 'unknown_challenge');
    const credentialId = credentialIdOf(response);
    if (!credentialId) return refuse('malformed_response');
    const credential = await this.store.byCredentialId(m, credentialId);
    if (!credential) return refuse('unknown_credential');
    const who = { userId: credential.user_id, passkeyId: credential.id };
    // Another account's passkey: nothing of that account goes into this one's audit trail.
    if (owner && credential.user_id !== owner.id) return refuse('foreign_credential');
    // A discoverable credential names its account (the user handle): it must be the credential's owner.
    const handle = userHandleOf(response);
    if ((!owner && handle === null) || (handle !== null && handle !== credential.user_handle)) return refuse('user_handle_mismatch', who);

    const verified = await this.webauthn.verifyAssertion(response, ceremony.challenge, { credentialId, publicKey: credential.public_key }, owner === null);
    if (!verified.ok) return refuse('verification_failed', { ...who, detail: verified.detail });
    const { newCounter, backedUp } = verified.value;
    if (!(await this.store.advanceCounter(m, credential.id, newCounter, backedUp))) {
      // The authenticator's counter did not grow: another copy of the key may be in use.
      return refuse('counter_not_increasing', { ...who, data: { possibleClone: true, presentedCounter: newCounter, storedCounter: Number(credential.counter) } });
    }
    return { ok: true, credential };
  }
}

/** The code completeChallenge throws for a wrong answer (a refused assertion here). */
const WRONG_ANSWER: keyof typeof SignInErrors.catalogue = 'INVALID_TWO_FACTOR_CODE';
