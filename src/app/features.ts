import type { Services } from './services';

/** Wires optional features into the core flows (two-factor challenge at login, ...). */
export function registerFeatures(services: Services): void {
  // Accounts with 2FA on get a TwoFactorChallenge from login instead of a session.
  services.auth.useChallengeIssuer(services.twoFactor);
}
