import type { Services } from './services';

/** Wires optional features into the core flows (two-factor challenge at login, ...). */
export function registerFeatures(_services: Services): void {
  // two-factor: services.auth.useChallengeIssuer(...)
}
