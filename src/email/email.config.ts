import type { ThrottlePolicy } from '../abuse/throttle-policy';
import type { CoreConfig } from '../config/core-config';
import { int, type Env } from '../config/parse';

export interface EmailConfig {
  /** sendVerificationEmail calls per account per hour. */
  verificationEmailsPerHour: number;
  /** requestPasswordReset calls per normalised address per hour, whether or not an account has it. */
  passwordResetsPerAddressPerHour: number;
  /** requestPasswordReset calls per client address per hour. */
  passwordResetsPerClientPerHour: number;
  /** requestEmailChange calls per account, and per new address, per hour. */
  emailChangesPerHour: number;
}

export function readEmailConfig(env: Env, core: CoreConfig): EmailConfig {
  return {
    verificationEmailsPerHour: int(env, 'VERIFICATION_EMAILS_PER_HOUR', 5, 1, 1000),
    passwordResetsPerAddressPerHour: int(env, 'PASSWORD_RESETS_PER_ADDRESS_PER_HOUR', 5, 1, 1000),
    // Outside production every client is usually 127.0.0.1 (developers, test suites), as for registrations.
    passwordResetsPerClientPerHour: int(env, 'PASSWORD_RESETS_PER_CLIENT_PER_HOUR', core.isProduction ? 50 : 10_000, 1, 1_000_000),
    emailChangesPerHour: int(env, 'EMAIL_CHANGES_PER_HOUR', 5, 1, 1000),
  };
}

export const EmailLimit = {
  VERIFICATIONS_BY_ACCOUNT: 'verify-email:acct',
  RESETS_BY_ADDRESS: 'reset:addr',
  RESETS_BY_CLIENT: 'reset:ip',
  CHANGES_BY_ACCOUNT: 'email-change:acct',
  CHANGES_BY_ADDRESS: 'email-change:addr',
} as const;

const HOUR_SECONDS = 60 * 60;

/** Every mail a caller can make the service send is counted: these are the ways to flood an inbox. */
export function emailPolicies(config: EmailConfig): ThrottlePolicy[] {
  const hourly = (name: string, points: number): ThrottlePolicy => ({ name, points, windowSeconds: HOUR_SECONDS, onSuccess: 'keep' });
  return [
    hourly(EmailLimit.VERIFICATIONS_BY_ACCOUNT, config.verificationEmailsPerHour),
    hourly(EmailLimit.RESETS_BY_ADDRESS, config.passwordResetsPerAddressPerHour),
    hourly(EmailLimit.RESETS_BY_CLIENT, config.passwordResetsPerClientPerHour),
    hourly(EmailLimit.CHANGES_BY_ACCOUNT, config.emailChangesPerHour),
    hourly(EmailLimit.CHANGES_BY_ADDRESS, config.emailChangesPerHour),
  ];
}
