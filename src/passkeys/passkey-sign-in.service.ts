import type { DataSource, EntityManager } from 'typeorm';
import type { Throttle } from '../abuse/throttle';
import type { AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import { sha256Hex } from '../crypto/random';
import { AppError } from '../errors/app-error';
import { CoreErrors } from '../errors/core-errors';
import type { AuthPayload } from '../sessions/auth-payload.type';
import type { Challenges } from '../sign-in/challenges';
import { TwoFactorMethod, type CodeClaim } from '../sign-in/second-factor';
import { signInMethod } from '../sign-in/sign-in-method';
import type { SignInAccount, SignInService } from '../sign-in/sign-in.service';
import { SignInErrors } from '../sign-in/sign-in.errors';
import { ceremonyProblem, type Ceremonies, type Ceremony, type CeremonyKind } from './ceremonies';
import type { PasskeyRejections, RejectionContext } from './passkey-rejections';
import { toOptions } from './passkey-registration.service';
import { foundOf, type PasskeyStore, type StoredCredential } from './passkey-store';
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

  /**
   * Counted per client address before the assertion is looked at, like every credential check.
   * Three round trips besides the throttle's. The ceremony is spent and the credential
   * and its account read in one statement; the assertion is checked in memory; the counter moves in
   * a second; the session and both audit rows (passkey.login, login.succeeded) open in the
   * pipeline's own one statement. No transaction spans them: each commits what stays true
   * whatever follows (a spent ceremony, a counter the authenticator has moved), and a refusal is
   * audited on its own.
   */
  async finishLogin(challengeId: string, response: Record<string, unknown>, request: RequestInfo): Promise<AuthPayload> {
    return this.throttle.attempt([{ policy: PasskeyLimit.FAILURES_BY_ADDRESS, key: request.ip }], async (attempt) => {
      const outcome = await this.login(challengeId, response, request);
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
   *
   * The fast path (the pipeline's `claim`): the ceremony and the credential are read with the
   * challenge (the pipeline's `prefetch`), the assertion checked in memory, and the ceremony and counter are spent inside the
   * pipeline's one statement that locks and spends the challenge and opens the session: two round
   * trips in all, as a TOTP code's. Whatever that statement does not do (a refusal, the
   * session cap, a raced counter) the slow path does from the start, the ceremony still unspent.
   */
  async verifySecondFactor(challengeToken: string, challengeId: string, response: Record<string, unknown>, request: RequestInfo): Promise<AuthPayload> {
    const binding = sha256Hex(challengeToken);
    const credentialId = credentialIdOf(response);
    const claim = async (account: { id: string }, prefetched: unknown): Promise<CodeClaim | null> => {
      const { ceremony, credential } = foundOf(prefetched);
      const verdict = await this.assess({ kind: 'second_factor', ceremony, credentialId, credential, response, owner: account, binding });
      // A refusal goes the slow way, which takes the ceremony and records why.
      if (!verdict.ok) return null;
      return { method: TwoFactorMethod.PASSKEY, spend: (q, userId, gate) => this.store.spendSecondFactorSteps(q, userId, challengeId, verdict, gate) };
    };
    try {
      return await this.signIn.completeChallenge(
        challengeToken,
        request,
        async (m, account) => ((await this.checkAssertion(m, challengeId, response, request, account, binding)) ? TwoFactorMethod.PASSKEY : null),
        claim,
        (q) => this.store.ceremonyExpression(q, challengeId, credentialId),
      );
    } catch (error) {
      if (error instanceof AppError && error.code === WRONG_ANSWER) throw PasskeyErrors.PASSKEY_REJECTED();
      throw error;
    }
  }

  private async login(challengeId: string, response: Record<string, unknown>, request: RequestInfo): Promise<LoginOutcome> {
    const credentialId = credentialIdOf(response);
    const { ceremony, credential, account } = await this.store.takeSignIn(challengeId, credentialId);
    const verdict = await this.assess({ kind: 'sign_in', ceremony, credentialId, credential, response, owner: null, binding: null });
    const manager = this.dataSource.manager;
    if (!verdict.ok) {
      await this.rejections.record(manager, verdict.reason, { ceremony: 'sign_in', request, ...verdict.extra });
      return { ok: false };
    }
    const { credential: used, newCounter, backedUp } = verdict;
    if (!account || !(await this.store.advanceCounter(null, used.id, newCounter, backedUp))) {
      // The authenticator's counter did not grow (another copy of the key may be in use), or the
      // passkey was deleted while its assertion was being checked.
      await this.rejections.record(manager, 'counter_not_increasing', { ceremony: 'sign_in', request, ...this.cloneSuspicion(used, newCounter) });
      return { ok: false };
    }
    const login = { type: PasskeyEvent.LOGIN, userId: account.id, ip: request.ip, userAgent: request.userAgent, data: { passkeyId: used.id } };
    // The pipeline refuses a locked account (after the assertion was checked) before writing anything.
    const result = await this.signIn.complete(account, PASSKEY_METHOD, request, { audit: [login] });
    if (!('accessToken' in result)) throw new Error('a user-verified passkey proves two factors: the pipeline must open a session');
    return { ok: true, payload: result };
  }

  /**
   * The second step's check, inside completeChallenge's transaction: takes the ceremony, finds the
   * credential, verifies the assertion, then advances the counter. The credential must be one of
   * the challenge's account (`owner`); presence is enough.
   */
  private async checkAssertion(
    m: EntityManager,
    challengeId: string,
    response: Record<string, unknown>,
    request: RequestInfo,
    owner: SignInAccount,
    binding: string,
  ): Promise<boolean> {
    const context = { ceremony: 'second_factor' as const, request, userId: owner.id };
    const verdict = await this.assessInside(m, challengeId, response, owner, binding);
    if (!verdict.ok) {
      await this.rejections.record(m, verdict.reason, { ...context, ...verdict.extra });
      return false;
    }
    if (!(await this.store.advanceCounter(m, verdict.credential.id, verdict.newCounter, verdict.backedUp))) {
      await this.rejections.record(m, 'counter_not_increasing', { ...context, ...this.cloneSuspicion(verdict.credential, verdict.newCounter) });
      return false;
    }
    return true;
  }

  private async assessInside(m: EntityManager, challengeId: string, response: Record<string, unknown>, owner: SignInAccount, binding: string): Promise<Verdict> {
    const ceremony = await this.ceremonies.take(m, challengeId);
    const credentialId = credentialIdOf(response);
    const credential = ceremony && credentialId ? await this.store.byCredentialId(m, credentialId) : null;
    return this.assess({ kind: 'second_factor', ceremony, credentialId, credential, response, owner, binding });
  }

  /**
   * What is wrong with an assertion, in the order WebAuthn 7.2 checks it, or the counter it carries.
   * `owner` null: a passwordless sign-in (the credential names the account; UV required); else the
   * account of the TwoFactorChallenge (the credential must be its own).
   */
  private async assess(a: Assessed): Promise<Verdict> {
    const problem = ceremonyProblem(a.ceremony, a.kind, a.owner?.id ?? null, a.binding);
    if (problem || !a.ceremony) return { ok: false, reason: problem ?? 'unknown_challenge', extra: {} };
    if (!a.credentialId) return { ok: false, reason: 'malformed_response', extra: {} };
    const { credential } = a;
    if (!credential) return { ok: false, reason: 'unknown_credential', extra: {} };
    const who = { userId: credential.user_id, passkeyId: credential.id };
    // Another account's passkey: nothing of that account goes into this one's audit trail.
    if (a.owner && credential.user_id !== a.owner.id) return { ok: false, reason: 'foreign_credential', extra: {} };
    // A discoverable credential names its account (the user handle): it must be the credential's owner.
    const handle = userHandleOf(a.response);
    if ((!a.owner && handle === null) || (handle !== null && handle !== credential.user_handle)) return { ok: false, reason: 'user_handle_mismatch', extra: who };
    const verified = await this.webauthn.verifyAssertion(a.response, a.ceremony.challenge, { credentialId: a.credentialId, publicKey: credential.public_key }, a.owner === null);
    if (!verified.ok) return { ok: false, reason: 'verification_failed', extra: { ...who, detail: verified.detail } };
    return { ok: true, credential, newCounter: verified.value.newCounter, backedUp: verified.value.backedUp };
  }

  private cloneSuspicion(credential: StoredCredential, presented: number): Omit<RejectionContext, 'ceremony' | 'request'> {
    return { userId: credential.user_id, passkeyId: credential.id, data: { possibleClone: true, presentedCounter: presented, storedCounter: Number(credential.counter) } };
  }
}

interface Assessed {
  kind: CeremonyKind;
  ceremony: Ceremony | null;
  credentialId: string | null;
  credential: StoredCredential | null;
  response: Record<string, unknown>;
  owner: { id: string } | null;
  binding: string | null;
}

type Verdict =
  | { ok: true; credential: StoredCredential; newCounter: number; backedUp: boolean }
  | { ok: false; reason: RejectionReason; extra: Omit<RejectionContext, 'ceremony' | 'request'> };

/** The code completeChallenge throws for a wrong answer (a refused assertion here). */
const WRONG_ANSWER: keyof typeof SignInErrors.catalogue = 'INVALID_TWO_FACTOR_CODE';
