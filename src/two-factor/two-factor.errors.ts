import { defineErrors } from '../errors/app-error';

export const TwoFactorErrors = defineErrors({
  TWO_FACTOR_ALREADY_ENABLED: 'Two-factor authentication is already enabled.',
  TWO_FACTOR_NOT_ENABLED: 'Two-factor authentication is not enabled.',
});
