/** Audit events of TOTP enrolment and the 2FA changes of a signed-in user. */
export const TwoFactorEvent = {
  TWO_FACTOR_ENABLED: 'two_factor.enabled',
  TWO_FACTOR_DISABLED: 'two_factor.disabled',
  RECOVERY_CODES_REGENERATED: 'two_factor.recovery_codes_regenerated',
} as const;
