/** Audit events of email verification, password reset and email change (CONTRACT.md, Email). */
export const EmailEvent = {
  VERIFICATION_SENT: 'user.email_verification_sent',
  VERIFIED: 'user.email_verified',
  PASSWORD_RESET_REQUESTED: 'user.password_reset_requested',
  PASSWORD_RESET: 'user.password_reset',
  CHANGE_REQUESTED: 'user.email_change_requested',
  CHANGED: 'user.email_changed',
} as const;
