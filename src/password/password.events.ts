/** Audit events of the password method. */
export const PasswordEvent = {
  REGISTERED: 'user.registered',
  LOGIN_FAILED: 'login.failed',
  ACCOUNT_LOCKED: 'login.account_locked',
  PASSWORD_CHANGED: 'user.password_changed',
} as const;
