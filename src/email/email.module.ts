import { DataSource } from 'typeorm';
import { Throttle } from '../abuse/throttle';
import { LoggerToken } from '../app/tokens';
import { AuditService } from '../audit/audit.service';
import { Outbox } from '../mail/outbox.service';
import { SecurityNoticesToken } from '../mail/security-notices';
import { defineModule } from '../module';
import { PasswordHasher } from '../password/password-hasher';
import { PasswordService } from '../password/password.service';
import { RevocationWatcher } from '../sessions/revocation-watcher';
import { SessionsService } from '../sessions/sessions.service';
import { AccountCreatedHooks } from '../users/account-created';
import { MailboxProvenHooks } from '../users/mailbox-proven';
import { AccountEmailFactsLoader } from './account-email-facts';
import { BackgroundTasks } from './background-tasks';
import { EmailChange } from './email-change.service';
import { emailPolicies, readEmailConfig, type EmailConfig } from './email.config';
import { EmailEvent } from './email.events';
import { emailPageRoutes } from './email-pages';
import { EmailResolver } from './email.resolver';
import { EmailTokenEntity } from './email-token.entity';
import { EmailTokens } from './email-tokens';
import { EmailTokens1733300000000 } from './migrations/1733300000000-email-tokens';
import { PasswordReset } from './password-reset.service';
import { UserEmailFieldsResolver } from './user-email-fields.resolver';
import { EmailVerification } from './verification.service';

/** Spent, retired and expired tokens are kept a day past their expiry, then pruned. */
const TOKEN_RETENTION_SECONDS = 24 * 60 * 60;

/**
 * Email flows: verification (on register and on request), password reset, email change, the
 * User fields they add, and the pages their links open. Mail goes through the mail module's outbox.
 */
export const emailModule = defineModule<EmailConfig>({
  name: 'email',
  readConfig: readEmailConfig,
  entities: [EmailTokenEntity],
  migrations: [EmailTokens1733300000000],
  auditEvents: Object.values(EmailEvent),
  throttlePolicies: emailPolicies,
  resolvers: [EmailResolver, UserEmailFieldsResolver],
  cleanupJobs: () => [
    {
      name: 'emailTokens',
      sql: `DELETE FROM email_tokens WHERE id IN (
              SELECT id FROM email_tokens WHERE expires_at < now() - make_interval(secs => $1) LIMIT $2)`,
      params: [TOKEN_RETENTION_SECONDS],
    },
  ],
  routes: () => emailPageRoutes(),
  register(c) {
    const dataSource = c.get(DataSource);
    const audit = c.get(AuditService);
    const throttle = c.get(Throttle);
    const tokens = c.set(EmailTokens, new EmailTokens(dataSource, c.get(Outbox)));
    const verification = c.set(EmailVerification, new EmailVerification(dataSource, tokens, audit, throttle, c.get(MailboxProvenHooks), c.get(RevocationWatcher)));
    c.get(AccountCreatedHooks).add(verification.onAccountCreated);
    const background = c.set(BackgroundTasks, new BackgroundTasks(c.get(LoggerToken)));
    const reset = c.set(
      PasswordReset,
      new PasswordReset(dataSource, tokens, audit, {
        hasher: c.get(PasswordHasher),
        sessions: c.get(SessionsService),
        revocations: c.get(RevocationWatcher),
        notices: c.get(SecurityNoticesToken),
        throttle,
        background,
        logger: c.get(LoggerToken),
        mailboxProven: c.get(MailboxProvenHooks),
      }),
    );
    const change = c.set(EmailChange, new EmailChange(dataSource, tokens, audit, throttle, c.get(PasswordService), c.get(SecurityNoticesToken)));
    c.set(EmailResolver, new EmailResolver(verification, reset, change));
    c.set(UserEmailFieldsResolver, new UserEmailFieldsResolver(new AccountEmailFactsLoader(dataSource)));
  },
  async stop(c) {
    await c.get(BackgroundTasks).drain();
  },
});
