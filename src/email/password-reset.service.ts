import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Throttle } from '../abuse/throttle';
import type { AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import { badUserInput, CoreErrors } from '../errors/core-errors';
import type { SecurityNotices } from '../mail/security-notices';
import { checkEmail, EMAIL_MAX_CHARS, normalizeEmail } from '../password/credentials.validation';
import { PasswordLimit } from '../password/password.config';
import type { PasswordHasher } from '../password/password-hasher';
import { checkPassword } from '../password/password-policy';
import type { RevocationWatcher } from '../sessions/revocation-watcher';
import type { MailboxProvenHooks } from '../users/mailbox-proven';
import { SessionRevokedReason, type SessionsService } from '../sessions/sessions.service';
import { rowsOf } from '../db/sql';
import type { BackgroundTasks } from './background-tasks';
import { EmailLimit } from './email.config';
import { EmailEvent } from './email.events';
import type { EmailTokens, TokenHolder } from './email-tokens';
import { proveMailbox } from './mailbox-proof';

/**
 * The lookup and mail of a reset request start at a random moment within this window, ms: the
 * extra work a known address causes then lands on no particular later request, so a prober cannot
 * time the request right after its probe to tell known from unknown (measured: +15% back to back).
 */
const REQUEST_WORK_JITTER_MS = 500;

/** What a reset changes besides the password, owned by other modules. */
export interface ResetCollaborators {
  hasher: PasswordHasher;
  sessions: SessionsService;
  revocations: RevocationWatcher;
  notices: SecurityNotices;
  throttle: Throttle;
  background: BackgroundTasks;
  logger: Logger;
  mailboxProven: MailboxProvenHooks;
}

/**
 * A forgotten password: a link to the address, then a new password. The request answers the same
 * for every address in the same time (the lookup and the mail happen after the answer); the reset
 * ends every session, clears the password lockouts, and signs nobody in: the next login still
 * needs the second factor.
 */
export class PasswordReset {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tokens: EmailTokens,
    private readonly audit: AuditService,
    private readonly c: ResetCollaborators,
  ) {}

  /** Always true. Counted per address (account or not) and per client before anything else. */
  async request(email: string, request: RequestInfo): Promise<true> {
    const address = normalizeEmail(String(email).slice(0, EMAIL_MAX_CHARS * 4));
    await this.c.throttle.count([
      { policy: EmailLimit.RESETS_BY_ADDRESS, key: address },
      { policy: EmailLimit.RESETS_BY_CLIENT, key: request.ip },
    ]);
    // Not even the account lookup runs before the answer: nothing in it depends on the address.
    if (!checkEmail('email', address)) this.c.background.run('password reset request', () => this.sendLink(address, request), randomInt(REQUEST_WORK_JITTER_MS));
    return true;
  }

  async reset(token: string, newPassword: string, request: RequestInfo): Promise<true> {
    const holder = await this.tokens.peek(token, 'reset_password');
    if (!holder) throw CoreErrors.INVALID_TOKEN();
    // A refused password does not spend the token: the user tries another on the same page.
    const policyError = checkPassword('newPassword', typeof newPassword === 'string' ? newPassword : '', holder);
    if (policyError) throw badUserInput([policyError]);
    const passwordHash = await this.c.hasher.hash(newPassword, request.ip);

    const outcome = await this.dataSource.transaction(async (m) => {
      const spent = await this.tokens.consume(m, token, 'reset_password');
      if (!spent) return null;
      // The link proved the address (a first proof runs the MailboxProvenHooks: provider links
      // added on an unproven claim go); failed_logins is the consecutive-failure lock a reset ends.
      const proven = await proveMailbox(m, this.c.mailboxProven, spent.userId, request, () =>
        m.query(
          `UPDATE users SET password_hash = $2, password_changed_at = now(), failed_logins = 0, email_verified = true, updated_at = now() WHERE id = $1`,
          [spent.userId, passwordHash],
        ),
      );
      // A pending email change or verification link dies with the old password (account recovery).
      await this.tokens.retireAll(m, spent.userId);
      await this.audit.record(m, { type: EmailEvent.PASSWORD_RESET, userId: spent.userId, ip: request.ip, userAgent: request.userAgent });
      const revoked = await this.c.sessions.revokeAllOfUser(m, spent.userId, SessionRevokedReason.PASSWORD_RESET, request);
      await this.c.notices.notify(m, spent.userId, 'password_changed');
      return { revoked: [...proven, ...revoked], holder: spent };
    });
    if (!outcome) throw CoreErrors.INVALID_TOKEN();
    this.c.revocations.markRevoked(...outcome.revoked);
    await this.clearPasswordLockouts(outcome.holder);
    return true;
  }

  private async sendLink(address: string, request: RequestInfo): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const [account] = await rowsOf<{ id: string; email: string }>(m, 'SELECT id, email FROM users WHERE email = $1', [address]);
      if (!account) return;
      await this.tokens.send(m, { userId: account.id, kind: 'reset_password', to: account.email });
      await this.audit.record(m, { type: EmailEvent.PASSWORD_RESET_REQUESTED, userId: account.id, ip: request.ip, userAgent: request.userAgent });
    });
  }

  /**
   * The login counters of the identifiers the account is known by (its email and username). Not
   * the second factor's: a reset must not hand a mailbox thief fresh guesses at the 2FA code.
   */
  private async clearPasswordLockouts(user: TokenHolder): Promise<void> {
    const identifiers = [user.email, ...(user.username ? [user.username.toLowerCase()] : [])];
    try {
      await this.c.throttle.reset(identifiers.map((key) => ({ policy: PasswordLimit.BY_ACCOUNT, key })));
    } catch (error) {
      // The reset committed; a lock left behind ends on its own (LOGIN_LOCK_SECONDS).
      this.c.logger.warn({ err: error }, 'password reset: could not clear the login throttle');
    }
  }
}
