import { createHash, randomBytes } from 'node:crypto';

/** 32 bytes (256 bits) from the CSPRNG, base64url: refresh and challenge tokens. */
export const OPAQUE_TOKEN_BYTES = 32;

export function newOpaqueToken(): string {
  return randomBytes(OPAQUE_TOKEN_BYTES).toString('base64url');
}

/**
 * Tokens that are already 256 random bits need no slow hash: SHA-256 keeps a stolen table from
 * being replayed while staying a cheap indexed lookup.
 */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}
