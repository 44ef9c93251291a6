import type { DataSource } from 'typeorm';
import type { Throttle } from '../abuse/throttle';
import type { AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import type { Viewer } from '../context/viewer';
import { badField, badUserInput, CoreErrors } from '../errors/core-errors';
import type { SecurityNotices } from '../mail/security-notices';
import { checkEmail, normalizeEmail } from '../password/credentials.validation';
import { PasswordErrors } from '../password/password.errors';
import type { PasswordService } from '../password/password.service';
import { rowsOf } from '../db/sql';
import { EmailLimit } from './email.config';
import { EmailEvent } from './email.events';
import type { EmailTokens } from './email-tokens';

const PG_UNIQUE_VIOLATION = '23505';

const newEmailTaken = () => PasswordErrors.EMAIL_TAKEN({ fields: [{ field: 'newEmail', message: PasswordErrors.catalogue.EMAIL_TAKEN }] });

/** A new address for an account: proven by a link to it, announced to the old one. */
export class EmailChange {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tokens: EmailTokens,
    private readonly audit: AuditService,
    private readonly throttle: Throttle,
    private readonly passwords: Pick<PasswordService, 'verifyPassword'>,
    private readonly notices: SecurityNotices,
  ) {}

  async request(viewer: Viewer, rawNewEmail: string, password: string, request: RequestInfo): Promise<true> {
    const newEmail = normalizeEmail(String(rawNewEmail));
    const invalid = checkEmail('newEmail', newEmail);
    if (invalid) throw badUserInput([invalid]);
    await this.passwords.verifyPassword(viewer.userId, password, request);
    // After the password (only the owner spends the budget), before EMAIL_TAKEN (which names taken addresses).
    await this.throttle.count([
      { policy: EmailLimit.CHANGES_BY_ACCOUNT, key: viewer.userId },
      { policy: EmailLimit.CHANGES_BY_ADDRESS, key: newEmail },
    ]);
    await this.dataSource.transaction(async (m) => {
      const [account] = await rowsOf<{ email: string }>(m, 'SELECT email FROM users WHERE id = $1 FOR UPDATE', [viewer.userId]);
      if (!account) throw CoreErrors.UNAUTHENTICATED();
      if (account.email === newEmail) throw badField('newEmail', 'This is already your email address.');
      const taken = await rowsOf(m, 'SELECT 1 FROM users WHERE email = $1', [newEmail]);
      if (taken.length) throw newEmailTaken();
      await this.tokens.send(m, { userId: viewer.userId, kind: 'confirm_email_change', to: newEmail, data: { newEmail } });
      await this.notices.notify(m, viewer.userId, 'email_change_requested', { newEmail });
      await this.audit.record(m, { type: EmailEvent.CHANGE_REQUESTED, userId: viewer.userId, sessionId: viewer.sessionId, ip: request.ip, userAgent: request.userAgent });
    });
    return true;
  }

  /** Spends the link's token: the new address replaces the old one, verified. EMAIL_TAKEN leaves the token unspent. */
  async confirm(token: string, request: RequestInfo): Promise<true> {
    const changed = await this.dataSource.transaction(async (m) => {
      const holder = await this.tokens.consume(m, token, 'confirm_email_change');
      if (!holder) return false;
      try {
        await m.query('UPDATE users SET email = $2, email_verified = true, updated_at = now() WHERE id = $1', [holder.userId, holder.email]);
      } catch (error) {
        const e = error as { code?: string; driverError?: { code?: string } };
        if ((e.driverError?.code ?? e.code) === PG_UNIQUE_VIOLATION) throw PasswordErrors.EMAIL_TAKEN();
        throw error;
      }
      // Links sent to the old address (a reset, a verification) no longer prove anything.
      await this.tokens.retireAll(m, holder.userId);
      await this.audit.record(m, { type: EmailEvent.CHANGED, userId: holder.userId, ip: request.ip, userAgent: request.userAgent });
      return true;
    });
    if (!changed) throw CoreErrors.INVALID_TOKEN();
    return true;
  }
}
