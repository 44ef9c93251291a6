import { createHmac, randomBytes } from 'node:crypto';

/**
 * Recovery codes: `xxxxx-xxxxx` from Crockford's base32 alphabet (no i, l, o, u), 50 bits each from
 * the CSPRNG. What people misread on paper (o for 0, i or l for 1, case, spaces, the hyphen) is
 * forgiven when they are typed back.
 */

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // 32 symbols: a random byte & 31 picks one without bias
const GROUP_CHARS = 5;
const GROUPS = 2;
const CODE_CHARS = GROUP_CHARS * GROUPS;
const CODE_SHAPE = new RegExp(`^[${ALPHABET}]{${CODE_CHARS}}$`);

export function generateRecoveryCode(): string {
  const bytes = randomBytes(CODE_CHARS);
  let code = '';
  for (let i = 0; i < CODE_CHARS; i++) {
    if (i > 0 && i % GROUP_CHARS === 0) code += '-';
    code += ALPHABET[bytes[i] & 31];
  }
  return code;
}

export function generateRecoveryCodes(count: number): string[] {
  const codes = new Set<string>();
  while (codes.size < count) codes.add(generateRecoveryCode());
  return [...codes];
}

/** The canonical form of typed input (10 alphabet characters), or null when it cannot be a recovery code. */
export function normalizeRecoveryCode(input: string): string | null {
  const canonical = input
    .toLowerCase()
    .replace(/[\s-]/g, '')
    .replace(/o/g, '0')
    .replace(/[il]/g, '1');
  return CODE_SHAPE.test(canonical) ? canonical : null;
}

/**
 * Stored form: HMAC-SHA256 keyed by the user id. The codes carry 50 random bits, so a fast hash is
 * enough; the per-user key keeps one table entry from matching any other account's code.
 */
export function hashRecoveryCode(userId: string, canonicalCode: string): string {
  return createHmac('sha256', userId).update(canonicalCode, 'utf8').digest('hex');
}
