import type { DataSource, EntityManager } from 'typeorm';
import type { Throttle } from '../abuse/throttle';
import type { AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import type { Viewer } from '../context/viewer';
import { CoreErrors } from '../errors/core-errors';
import { rowsOf } from '../db/sql';
import type { RevocationWatcher } from '../sessions/revocation-watcher';
import type { CreatedAccount } from '../users/account-created';
import type { MailboxProvenHooks } from '../users/mailbox-proven';
import { EmailLimit } from './email.config';
import { EmailEvent } from './email.events';
import type { EmailTokens } from './email-tokens';
import { proveMailbox } from './mailbox-proof';

/** Proving that an account's address is its owner's: the link sent on register (and again on request). */
export class EmailVerification {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tokens: EmailTokens,
    private readonly audit: AuditService,
    private readonly throttle: Throttle,
    private readonly mailboxProven: MailboxProvenHooks,
    private readonly revocations: RevocationWatcher,
  ) {}

  /** An AccountCreatedHook: register sends the link in the transaction that creates the account. */
  readonly onAccountCreated = async (m: EntityManager, account: CreatedAccount, request: RequestInfo): Promise<void> => {
    if (!account.email_verified) await this.send(m, account.id, account.email, request, null);
  };

  /** Sends a new link (retiring the previous one); false when the address is verified already. */
  async resend(viewer: Viewer, request: RequestInfo): Promise<boolean> {
    const [state]: Array<{ email_verified: boolean }> = await this.dataSource.query('SELECT email_verified FROM users WHERE id = $1', [viewer.userId]);
    if (!state) throw CoreErrors.UNAUTHENTICATED();
    if (state.email_verified) return false;
    await this.throttle.count([{ policy: EmailLimit.VERIFICATIONS_BY_ACCOUNT, key: viewer.userId }]);
    return this.dataSource.transaction(async (m) => {
      const [account] = await rowsOf<{ email: string; email_verified: boolean }>(m, 'SELECT email, email_verified FROM users WHERE id = $1 FOR UPDATE', [viewer.userId]);
      if (!account) throw CoreErrors.UNAUTHENTICATED();
      if (account.email_verified) return false;
      await this.send(m, viewer.userId, account.email, request, viewer.sessionId);
      return true;
    });
  }

  /**
   * Spends a verification token: the address it was sent to is the account's, and now verified.
   * A first proof runs the MailboxProvenHooks (provider links added on an unproven claim go).
   */
  async verify(token: string, request: RequestInfo): Promise<boolean> {
    const ended = await this.dataSource.transaction(async (m) => {
      const holder = await this.tokens.consume(m, token, 'verify_email');
      if (!holder) return null;
      const revoked = await proveMailbox(m, this.mailboxProven, holder.userId, request, () =>
        m.query('UPDATE users SET email_verified = true, updated_at = now() WHERE id = $1', [holder.userId]),
      );
      await this.audit.record(m, { type: EmailEvent.VERIFIED, userId: holder.userId, ip: request.ip, userAgent: request.userAgent });
      return revoked;
    });
    if (!ended) throw CoreErrors.INVALID_TOKEN();
    this.revocations.markRevoked(...ended);
    return true;
  }

  private async send(m: EntityManager, userId: string, email: string, request: RequestInfo, sessionId: string | null): Promise<void> {
    await this.tokens.send(m, { userId, kind: 'verify_email', to: email });
    await this.audit.record(m, { type: EmailEvent.VERIFICATION_SENT, userId, sessionId, ip: request.ip, userAgent: request.userAgent });
  }
}
