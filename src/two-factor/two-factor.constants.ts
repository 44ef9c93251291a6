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

/** Recovery codes handed out per enrolment or regeneration (CONTRACT.md: 10). */
export const RECOVERY_CODE_COUNT = 10;
