import { isUuid } from '../db/uuid';
import { SignInErrors } from '../sign-in/sign-in.errors';
import type { SignInMethodCounter } from '../sign-in/sign-in-method-counters';
import type { DataSource, EntityManager } from 'typeorm';
import type { Throttle } from '../abuse/throttle';
import type { AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import type { Viewer } from '../context/viewer';
import type { AppError } from '../errors/app-error';
import { badField, CoreErrors } from '../errors/core-errors';
import type { SecurityNotices } from '../mail/security-notices';
import type { RecentSignIn } from '../sessions/recent-sign-in';
import { rowsOf } from '../db/sql';
import { ceremonyProblem, CEREMONY_TTL_SECONDS, type Ceremonies } from './ceremonies';
import { checkPasskeyName, defaultPasskeyName } from './passkey-names';
import type { PasskeyRejections } from './passkey-rejections';
import type { PasskeyStore } from './passkey-store';
import { PasskeyOptions, toPasskey, type Passkey, type PasskeyRow } from './passkey.types';
import { PasskeyLimit } from './passkeys.config';
import { PasskeyErrors } from './passkeys.errors';
import { PasskeyEvent } from './passkeys.events';
import type { WebAuthn } from './webauthn';

/** Passkeys one account may hold (CONTRACT.md: BAD_USER_INPUT beyond). */
export const MAX_PASSKEYS = 25; // per account


/** What registration needs of the password method: the re-check of a signed-in user's password. */
export interface PasswordReCheck {
  verifyPassword(userId: string, password: string, request: RequestInfo): Promise<unknown>;
}

interface AccountFacts {
  email: string;
  username: string | null;
  has_password: boolean;
}

type Finished = { kind: 'added'; row: PasskeyRow } | { kind: 'rejected' } | { kind: 'refused'; error: AppError };

export function toOptions(challengeId: string, options: object): PasskeyOptions {
  return Object.assign(new PasskeyOptions(), { challengeId, options: options as Record<string, unknown>, expiresIn: CEREMONY_TTL_SECONDS });
}

function tooMany(): AppError {
  return badField('passkeys', `An account holds at most ${MAX_PASSKEYS} passkeys: remove one first.`);
}

/** A signed-in user's passkeys: register (password re-checked), list, rename, remove (password re-checked). */
export class PasskeyRegistration {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PasskeyStore,
    private readonly ceremonies: Ceremonies,
    private readonly webauthn: WebAuthn,
    private readonly passwords: PasswordReCheck,
    private readonly audit: AuditService,
    private readonly throttle: Throttle,
    private readonly rejections: PasskeyRejections,
    private readonly notices: SecurityNotices,
    private readonly recentSignIn: RecentSignIn,
    /** The other ways into an account (OAuth links, ...), asked before the last passkey of a passwordless account goes. */
    private readonly otherMethods: () => readonly SignInMethodCounter[] = () => [],
  ) {}

  async list(userId: string): Promise<Passkey[]> {
    return (await this.store.list(userId)).map(toPasskey);
  }

  async start(viewer: Viewer, password: string | null | undefined, request: RequestInfo): Promise<PasskeyOptions> {
    const account = await this.account(viewer.userId);
    await this.reCheck(viewer, account, password, request, 'add a passkey');
    if ((await this.store.count(viewer.userId)) >= MAX_PASSKEYS) throw tooMany();
    await this.throttle.count([{ policy: PasskeyLimit.CEREMONIES_BY_ADDRESS, key: request.ip }]);
    const [userHandle, exclude] = await Promise.all([this.store.userHandle(viewer.userId), this.store.descriptors(viewer.userId)]);
    const ceremony = await this.ceremonies.issue('registration', viewer.userId);
    const options = await this.webauthn.registrationOptions({
      // Shown by the authenticator's account picker; the user handle (random) is what identifies the account.
      userName: account.email,
      displayName: account.username ?? account.email,
      userHandle,
      challenge: ceremony.challenge,
      exclude,
    });
    return toOptions(ceremony.id, options);
  }

  async finish(viewer: Viewer, challengeId: string, response: Record<string, unknown>, name: string | null | undefined, request: RequestInfo): Promise<Passkey> {
    const chosenName = name === null || name === undefined ? null : checkPasskeyName('name', name);
    // One transaction that always commits: the ceremony is spent whatever the outcome.
    const finished = await this.dataSource.transaction((m) => this.register(m, viewer, challengeId, response, chosenName, request));
    if (finished.kind === 'rejected') throw PasskeyErrors.PASSKEY_REJECTED();
    if (finished.kind === 'refused') throw finished.error;
    return toPasskey(finished.row);
  }

  async rename(viewer: Viewer, id: string, name: string): Promise<Passkey> {
    const newName = checkPasskeyName('name', name);
    const row = isUuid(id) ? await this.store.rename(viewer.userId, id, newName) : null;
    if (!row) throw badField('id', 'No such passkey.');
    return toPasskey(row);
  }

  async remove(viewer: Viewer, id: string, password: string | null | undefined, request: RequestInfo): Promise<boolean> {
    const account = await this.account(viewer.userId);
    await this.reCheck(viewer, account, password, request, 'remove a passkey');
    if (!isUuid(id)) throw badField('id', 'No such passkey.');
    await this.dataSource.transaction(async (m) => {
      // Locks the account row: two removals racing for the last two ways in take turns.
      await m.query('SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE', [viewer.userId]);
      const removed = await this.store.remove(m, viewer.userId, id);
      if (!removed) throw badField('id', 'No such passkey.');
      if (!account.has_password && (await this.waysInLeft(m, viewer.userId)) === 0) throw SignInErrors.LAST_SIGN_IN_METHOD();
      await this.audit.record(m, {
        type: PasskeyEvent.REMOVED,
        userId: viewer.userId,
        sessionId: viewer.sessionId,
        ip: request.ip,
        userAgent: request.userAgent,
        data: { passkeyId: removed.id, name: removed.name },
      });
    });
    return true;
  }

  private async register(
    m: EntityManager,
    viewer: Viewer,
    challengeId: string,
    response: Record<string, unknown>,
    chosenName: string | null,
    request: RequestInfo,
  ): Promise<Finished> {
    const base = { ceremony: 'registration' as const, request, userId: viewer.userId, sessionId: viewer.sessionId };
    const ceremony = await this.ceremonies.take(m, challengeId);
    const problem = ceremonyProblem(ceremony, 'registration', viewer.userId);
    if (problem || !ceremony) {
      await this.rejections.record(m, problem ?? 'unknown_challenge', base);
      return { kind: 'rejected' };
    }
    const verified = await this.webauthn.verifyRegistration(response, ceremony.challenge);
    if (!verified.ok) {
      await this.rejections.record(m, 'verification_failed', { ...base, detail: verified.detail });
      return { kind: 'rejected' };
    }
    const credential = verified.value;
    // The account row lock serialises registrations of one account: the limit holds under races.
    const [user] = await rowsOf<{ id: string }>(m, 'SELECT id FROM users WHERE id = $1 FOR UPDATE', [viewer.userId]);
    if (!user) return { kind: 'refused', error: CoreErrors.UNAUTHENTICATED() };
    if ((await this.store.count(viewer.userId, m)) >= MAX_PASSKEYS) return { kind: 'refused', error: tooMany() };
    const row = await this.store.insert(m, viewer.userId, credential, chosenName ?? defaultPasskeyName(credential.aaguid, credential.backedUp));
    if (!row) return { kind: 'refused', error: PasskeyErrors.PASSKEY_ALREADY_REGISTERED() };
    await this.audit.record(m, {
      type: PasskeyEvent.ADDED,
      userId: viewer.userId,
      sessionId: viewer.sessionId,
      ip: request.ip,
      userAgent: request.userAgent,
      data: { passkeyId: row.id, name: row.name, aaguid: credential.aaguid, backedUp: credential.backedUp },
    });
    // Queued in this transaction (an outbox): the notice goes out if and only if the passkey is stored.
    await this.notices.notify(m, viewer.userId, 'passkey_added', { name: row.name });
    return { kind: 'added', row };
  }

  /** Passkeys left (this transaction's view) plus every other module's ways in. */
  private async waysInLeft(m: EntityManager, userId: string): Promise<number> {
    let total = 0;
    for (const counter of this.otherMethods()) total += await counter.count(m, userId);
    return total;
  }

  private async account(userId: string): Promise<AccountFacts> {
    const rows: AccountFacts[] = await this.dataSource.query(
      `SELECT email, username, (password_hash IS NOT NULL AND password_hash <> '') AS has_password FROM users WHERE id = $1`,
      [userId],
    );
    // A valid access token of an account deleted since.
    if (!rows[0]) throw CoreErrors.UNAUTHENTICATED();
    return rows[0];
  }

  /** The password is re-checked when the account has one (throttled like a login); else the sign-in must be recent. */
  private async reCheck(viewer: Viewer, account: AccountFacts, password: string | null | undefined, request: RequestInfo, toDo: string): Promise<void> {
    // No password to re-check: a recent sign-in instead, or a stolen token could add a lasting way in.
    if (!account.has_password) return this.recentSignIn.require(viewer, toDo);
    if (typeof password !== 'string' || password.length === 0) throw badField('password', 'Enter your password to change your passkeys.');
    await this.passwords.verifyPassword(viewer.userId, password, request);
  }
}
