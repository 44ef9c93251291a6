import { sign, verify, type KeyObject } from 'node:crypto';
import type { SigningAlgorithm } from './signing-keys';

/**
 * Compact JWS (RFC 7515) for the two algorithms the service's keys can have, on node:crypto
 * directly: ES256 signatures in their JOSE form (r || s, RFC 7518 §3.4) without the DER round trip,
 * RS256 as RSASSA-PKCS1-v1_5 with SHA-256. jsonwebtoken spent as much time validating its options
 * and converting signatures as OpenSSL spent signing; this is on every refresh, login and cold
 * access-token check. Callers pin the algorithm to the key (never to the token's header).
 */

const DIGEST = 'sha256';

function signatureOptions(alg: SigningAlgorithm, key: KeyObject): KeyObject | { key: KeyObject; dsaEncoding: 'ieee-p1363' } {
  return alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key;
}

const encode = (value: object): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** `header.payload.signature`, signed with `key` under `alg`. */
export function signJws(alg: SigningAlgorithm, key: KeyObject, header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const input = `${encode({ ...header, alg })}.${encode(payload)}`;
  return `${input}.${sign(DIGEST, Buffer.from(input, 'utf8'), signatureOptions(alg, key)).toString('base64url')}`;
}

/** The three parts of a compact JWS, or null when it is not one (base64url characters only). */
export function splitJws(token: string): [string, string, string] | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return null;
  return parts as [string, string, string];
}

/** A base64url JSON object, or null. */
export function decodeJson(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Whether `signature` is `alg`'s signature by `key` over `header.payload` (false on any malformed input). */
export function verifyJws(alg: SigningAlgorithm, key: KeyObject, header: string, payload: string, signature: string): boolean {
  try {
    return verify(DIGEST, Buffer.from(`${header}.${payload}`, 'utf8'), signatureOptions(alg, key), Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}
