import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HOTP (RFC 4226) and TOTP (RFC 6238) with RFC 4648 base32, written out here rather than wrapped so
 * that the one piece deciding whether a second factor passes is small, readable and tested against
 * the RFC vectors. Another implementation (otpauth) computes the codes in the tests.
 */

export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

export interface TotpOptions {
  algorithm?: TotpAlgorithm;
  digits?: number;
  periodSeconds?: number;
}

export interface VerifyOptions extends TotpOptions {
  /** Milliseconds since the epoch; defaults to the clock. */
  nowMs?: number;
  /** Steps accepted before and after the current one. */
  window?: number;
}

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const DEFAULTS = { algorithm: 'SHA1' as TotpAlgorithm, digits: 6, periodSeconds: 30 };
const NODE_HMAC: Record<TotpAlgorithm, string> = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' };

/** RFC 4648 base32 without padding (what otpauth:// URIs carry). */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/** Accepts lower case, padding and the spaces apps show between groups; throws on anything else. */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/[\s-]/g, '').replace(/=+$/, '').toUpperCase();
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of clean) {
    const value = BASE32_ALPHABET.indexOf(char);
    if (value < 0) throw new Error('invalid base32 character');
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 4226 HOTP: HMAC of the 8-byte big-endian counter, dynamic truncation, last `digits` decimals. */
export function hotp(secret: Uint8Array, counter: number, options: TotpOptions = {}): string {
  const { algorithm, digits } = { ...DEFAULTS, ...options };
  if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError('counter must be a non-negative integer');
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(NODE_HMAC[algorithm], secret).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return (binary % 10 ** digits).toString().padStart(digits, '0');
}

/** The TOTP time step (RFC 6238 T) of an instant. */
export function timeStep(nowMs: number, periodSeconds = DEFAULTS.periodSeconds): number {
  return Math.floor(nowMs / 1000 / periodSeconds);
}

/** The code of the step that `timeSeconds` falls in. */
export function totp(secret: Uint8Array, timeSeconds: number, options: TotpOptions = {}): string {
  const periodSeconds = options.periodSeconds ?? DEFAULTS.periodSeconds;
  return hotp(secret, timeStep(timeSeconds * 1000, periodSeconds), options);
}

/** Equal-length strings compared without an early exit; a length difference is public anyway. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Checks a code against every step in the window (all of them, so timing says nothing about which
 * step matched) and returns the step it belongs to, or null. The caller records that step so a code
 * is accepted once only.
 */
export function verifyTotp(secret: Uint8Array, code: string, options: VerifyOptions = {}): number | null {
  const { digits, periodSeconds } = { ...DEFAULTS, ...options };
  const window = options.window ?? 1;
  if (code.length !== digits || !/^\d+$/.test(code)) return null;
  const current = timeStep(options.nowMs ?? Date.now(), periodSeconds);
  let matched: number | null = null;
  for (let step = current - window; step <= current + window; step++) {
    if (step < 0) continue;
    const equal = constantTimeEqual(hotp(secret, step, options), code);
    if (equal && matched === null) matched = step;
  }
  return matched;
}
