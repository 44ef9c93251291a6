import { TestClock, withClock } from '../support/test-clock';
import { randomBytes } from 'node:crypto';
import { MailCatcher, tokenOf, type CaughtMail } from '../mail/mail-catcher';
import { registerAccount, type TestAccount } from '../support/accounts';
import { operation } from '../support/operations';
import { startTestServer, type TestServer } from '../support/test-server';

export const SEND_VERIFICATION = operation('SendVerificationEmail');
export const VERIFY_EMAIL = operation('VerifyEmail');
export const REQUEST_RESET = operation('RequestPasswordReset');
export const RESET_PASSWORD = operation('ResetPassword');
export const REQUEST_EMAIL_CHANGE = operation('RequestEmailChange');
export const CONFIRM_EMAIL_CHANGE = operation('ConfirmEmailChange');
export const EMAIL_STATE = operation('MyEmailState');

export const SUBJECT = {
  verify: /^Confirm your email address$/,
  reset: /^Reset your password$/,
  change: /^Confirm your new email address$/,
  passwordChanged: /^Your password was changed$/,
  changeRequested: /^A change of your email address was requested$/,
  twoFactorOff: /^Two-factor authentication was turned off$/,
};

/** Environment of a test instance that mails to `catcher` (APP_URL unset: links point at the instance itself). */
export function mailEnv(catcher: MailCatcher, overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    SMTP_URL: catcher.url,
    MAIL_FROM: 'Bouncer Test <no-reply@bouncer.test>',
    MAIL_POLL_MS: '200',
    // Counters of their own, so other suites' failures from 127.0.0.1 never throttle these tests.
    RATE_LIMIT_KEY_PREFIX: `tmail-${randomBytes(6).toString('hex')}`,
    ...overrides,
  };
}

export async function startMailingServer(catcher: MailCatcher, overrides: Record<string, string | undefined> = {}): Promise<TestServer> {
  // TOTP codes follow a test clock: a test can use as many as it needs without waiting for steps.
  return startTestServer(mailEnv(catcher, overrides), withClock(new TestClock()));
}

/** A new account and the verification mail register sent it. */
export async function registerAndCatch(server: TestServer, catcher: MailCatcher): Promise<{ account: TestAccount; mail: CaughtMail }> {
  const account = await registerAccount(server);
  return { account, mail: await catcher.latest(account.email, SUBJECT.verify) };
}

export async function requestReset(server: TestServer, catcher: MailCatcher, email: string): Promise<CaughtMail> {
  const seen = catcher.to(email).length;
  const res = await server.gql(REQUEST_RESET, { email });
  if (res.data?.requestPasswordReset !== true) throw new Error(`requestPasswordReset: ${JSON.stringify(res.errors)}`);
  await catcher.waitFor(() => catcher.to(email).slice(seen).some((m) => SUBJECT.reset.test(m.subject)), 10_000, `a reset mail to ${email}`);
  return catcher.to(email).slice(seen).find((m) => SUBJECT.reset.test(m.subject))!;
}

export { tokenOf };

export { claimsOf } from '../support/tokens';

export function strongPassword(): string {
  return `New-pass ${randomBytes(6).toString('hex')} word`;
}

