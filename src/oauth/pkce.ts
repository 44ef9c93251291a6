import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** BASE64URL(SHA-256(...)): 32 bytes are exactly 43 characters without padding (RFC 7636, S256). */
const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** RFC 7636 4.1: 43 to 128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** 32 random bytes: 256 bits, 43 characters (PKCE verifiers and nonces). */
const SECRET_BYTES = 32;

export function isCodeChallenge(value: unknown): value is string {
  return typeof value === 'string' && CODE_CHALLENGE.test(value);
}

export function isCodeVerifier(value: unknown): value is string {
  return typeof value === 'string' && CODE_VERIFIER.test(value);
}

export function codeChallengeOf(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** Whether the verifier is the one whose S256 challenge started the flow (constant-time compare). */
export function verifierMatches(verifier: unknown, challenge: string): boolean {
  if (!isCodeVerifier(verifier)) return false;
  const actual = Buffer.from(codeChallengeOf(verifier));
  const expected = Buffer.from(challenge);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A PKCE verifier or a nonce: 256 bits from the CSPRNG. */
export function newFlowSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}
