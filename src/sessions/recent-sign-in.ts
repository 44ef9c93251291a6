import type { Viewer } from '../context/viewer';
import { CoreErrors } from '../errors/core-errors';
import type { SessionsService } from './sessions.service';

/**
 * How recent a sign-in must be to stand in for the password of an account that has none (made by
 * a provider, or passkey-only), ms: long enough to sign in and confirm, short enough that a token
 * taken from a device left signed in (or a session kept alive by refreshes) cannot act for the owner.
 */
export const REAUTH_WINDOW_MS = 5 * 60_000;

/**
 * The re-authentication of an account without a password: a sign-in (passkey, provider, ...) that
 * opened the caller's very session within REAUTH_WINDOW_MS; a refresh never counts. Refused with
 * UNAUTHENTICATED and `maxAge` (RFC 9470's step-up answer): the client signs in again and retries;
 * nothing else about the token is wrong.
 */
export class RecentSignIn {
  constructor(private readonly sessions: Pick<SessionsService, 'signedInWithin'>) {}

  /** `toDo` completes "Sign in again to …" (e.g. "delete your account"). */
  async require(viewer: Viewer, toDo: string): Promise<void> {
    if (await this.sessions.signedInWithin(viewer.sessionId, viewer.userId, REAUTH_WINDOW_MS)) return;
    throw CoreErrors.UNAUTHENTICATED({ message: `Sign in again to ${toDo}.`, maxAge: REAUTH_WINDOW_MS / 1000 });
  }
}
