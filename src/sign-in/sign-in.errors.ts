import { defineErrors } from '../errors/app-error';

export const SignInErrors = defineErrors({
  INVALID_TWO_FACTOR_CODE: 'Invalid two-factor code.',
  /** Removing a way in (a provider link, a passkey) that would leave the account with none. */
  LAST_SIGN_IN_METHOD: 'This is the last way to sign in to this account. Set a password or add another way first.',
});
