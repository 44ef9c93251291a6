/** Wall-clock time for code checks (TOTP steps); a test replaces it instead of sleeping on the real clock. */
export class Clock {
  now(): number {
    return Date.now();
  }
}
