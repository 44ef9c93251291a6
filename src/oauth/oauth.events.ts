/** Audit events of provider sign-ins and linked accounts (CONTRACT.md lists the first four). */
export const OAuthEvent = {
  LOGIN: 'oauth.login',
  LINKED: 'oauth.linked',
  UNLINKED: 'oauth.unlinked',
  ACCOUNT_CREATED: 'oauth.account_created',
  /** A provider identity claimed this account's address but could not be linked safely (ACCOUNT_LINK_REQUIRED). */
  LINK_REFUSED: 'oauth.link_refused',
} as const;
