import { TwoFactorMethod, type FactorAccount, type Queryable, type SecondFactor } from '../sign-in/second-factor';

/**
 * A passkey as the second step of a password sign-in (user presence is enough there: the password
 * was the first factor). An account has it when it has a passkey; whether a challenge is owed at
 * all stays the TOTP switch (users.two_factor_enabled), so losing the device never locks a person
 * out of a password sign-in that used to work.
 */
export class PasskeyFactor implements SecondFactor {
  readonly method = TwoFactorMethod.PASSKEY;

  async isEnrolled(account: FactorAccount, db: Queryable): Promise<boolean> {
    const rows = (await db.query('SELECT EXISTS (SELECT 1 FROM passkeys WHERE user_id = $1) AS any', [account.id])) as Array<{ any: boolean }>;
    return rows[0]?.any === true;
  }
}
