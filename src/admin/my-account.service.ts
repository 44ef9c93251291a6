import type { DataSource, EntityManager } from 'typeorm';
import type { RequestInfo } from '../context/request-info';
import type { Viewer } from '../context/viewer';
import { badField, CoreErrors } from '../errors/core-errors';
import type { RevocationWatcher } from '../sessions/revocation-watcher';
import type { RecentSignIn } from '../sessions/recent-sign-in';
import type { SecondFactorCheck } from '../sign-in/second-factor-check';
import type { AccountDeletion } from './account-deletion';
import { keepAnAdministrator, lockAccount, lockAdministrators } from './admin-locks';

/** What deleting an account needs of the password method: the re-check of a signed-in user's password. */
export interface PasswordReCheck {
  verifyPassword(userId: string, password: string, request: RequestInfo): Promise<unknown>;
}

/**
 * The owner's own erasure (GDPR art. 17): deleteMyAccount re-checks the password (throttled like a
 * login) or, for an account without a password, asks that the caller's session was opened by a
 * sign-in within REAUTH_WINDOW_MS (RecentSignIn; a refresh never counts); when 2FA is on, a code is spent in the
 * same transaction that deletes. A stolen access token alone cannot erase an account.
 */
export class MyAccount {
  constructor(
    private readonly dataSource: DataSource,
    private readonly passwords: PasswordReCheck,
    private readonly secondFactor: SecondFactorCheck,
    private readonly revocations: RevocationWatcher,
    private readonly deletion: AccountDeletion,
    private readonly recentSignIn: RecentSignIn,
  ) {}

  async delete(viewer: Viewer, password: string | null | undefined, code: string | null | undefined, request: RequestInfo): Promise<boolean> {
    const [account]: Array<{ two_factor_enabled: boolean; has_password: boolean }> = await this.dataSource.query(
      `SELECT two_factor_enabled, (password_hash IS NOT NULL AND password_hash <> '') AS has_password FROM users WHERE id = $1`,
      [viewer.userId],
    );
    if (!account) throw CoreErrors.UNAUTHENTICATED();
    if (account.has_password && (typeof password !== 'string' || password === '')) throw badField('password', 'Your password is required to delete your account.');
    if (account.two_factor_enabled && (typeof code !== 'string' || code === '')) throw badField('code', 'A two-factor code is required to delete your account.');
    if (account.has_password) await this.passwords.verifyPassword(viewer.userId, password as string, request);
    else await this.recentSignIn.require(viewer, 'delete your account');

    // Locks and the last-administrator rule come before the code is looked at: a refusal spends no code.
    const guard = async (m: EntityManager): Promise<void> => {
      const admins = await lockAdministrators(m, null);
      const row = await lockAccount(m, viewer.userId).catch(() => Promise.reject(CoreErrors.UNAUTHENTICATED()));
      keepAnAdministrator(admins, row);
    };
    const erase = (m: EntityManager): Promise<string[]> => this.deletion.delete(m, viewer.userId, { by: 'self' }, null);
    const ended = account.two_factor_enabled
      ? await this.secondFactor.run(viewer, code as string, request, 'delete_account', guard, erase)
      : await this.dataSource.transaction(async (m) => {
          await guard(m);
          return erase(m);
        });
    this.revocations.markRevoked(...ended);
    return true;
  }
}
