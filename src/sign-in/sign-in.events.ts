/** Audit events of the sign-in pipeline and its second-factor step. */
export const SignInEvent = {
  LOGIN_SUCCEEDED: 'login.succeeded',
  LOGIN_CHALLENGED: 'login.two_factor_challenged',
  TWO_FACTOR_CHALLENGE_FAILED: 'two_factor.challenge_failed',
  TWO_FACTOR_LOCKED: 'two_factor.locked',
  RECOVERY_CODE_USED: 'two_factor.recovery_code_used',
} as const;
