import { TwoFactorMethod, type SecondFactor } from '../sign-in/second-factor';

/**
 * A passkey as the second step of a password sign-in (user presence is enough there: the password
 * was the first factor). An account has it when it has a passkey; whether a challenge is owed at
 * all stays the TOTP switch (users.two_factor_enabled), so losing the device never locks a person
 * out of a password sign-in that used to work.
 */
export class PasskeyFactor implements SecondFactor {
  readonly method = TwoFactorMethod.PASSKEY;

  enrolled(_account: unknown, userId: string): string {
    return `EXISTS (SELECT 1 FROM passkeys WHERE user_id = ${userId})`;
  }
}
