import { defineErrors } from '../errors/app-error';

export const SignInErrors = defineErrors({
  INVALID_TWO_FACTOR_CODE: 'Invalid two-factor code.',
});
