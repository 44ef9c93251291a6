/**
 * Two-factor parameters. The TOTP ones are what authenticator apps assume by default (RFC 6238 with
 * SHA1, 6 digits, 30 s); changing them breaks every enrolled device, so they are not configurable.
 */

export const TOTP_ALGORITHM = 'SHA1';
export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;
/** Steps accepted either side of now: forgives about 30 s of clock drift and typing time. */
export const TOTP_WINDOW_STEPS = 1;
/** 160 bits: the HMAC-SHA1 block the RFC 4226 section 4 recommends as the minimum shared secret. */
export const TOTP_SECRET_BYTES = 20;

/** A login waits this long for its second factor (CONTRACT.md: 5 minutes). */
export const CHALLENGE_TTL_SECONDS = 5 * 60;
/** Wrong codes per challenge before it dies (CONTRACT.md); the account-wide throttle counts on top. */
export const MAX_CHALLENGE_ATTEMPTS = 5;
/** Longest challenge token looked up (ours are 43 characters); longer input is refused unhashed. */
export const MAX_CHALLENGE_TOKEN_CHARS = 256;
/** Longest code input considered at all (a 6-digit code or an 11-character recovery code with spaces). */
export const MAX_CODE_INPUT_CHARS = 64;

/** Recovery codes handed out per enrolment or regeneration (CONTRACT.md: 10). */
export const RECOVERY_CODE_COUNT = 10;
