import { defineErrors } from '../errors/app-error';

/** CONTRACT.md, "OAuth and OpenID Connect". Messages stay generic: the cause is in the logs. */
export const OAuthErrors = defineErrors({
  OAUTH_FAILED: 'Sign-in with this provider failed. Please start again.',
  ACCOUNT_LINK_REQUIRED: 'An account with this email address already exists. Sign in to it and link this provider from there.',
  OAUTH_ACCOUNT_IN_USE: 'This provider account is already linked to another account.',
});
