/** Audit events of sessions and refresh tokens. */
export const SessionEvent = {
  SESSION_REVOKED: 'session.revoked',
  REFRESH_TOKEN_REUSED: 'session.refresh_token_reused',
} as const;
