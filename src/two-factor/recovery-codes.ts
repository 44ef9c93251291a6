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

/** Where the pepper comes from: the Encryptor, which derives it from ENCRYPTION_KEY and its predecessors. */
export interface PepperSource {
  derivedKeys(purpose: string): Buffer[];
}

const PEPPER_PURPOSE = 'bouncer recovery-code hash v1';

function hmac(key: Buffer | string, userId: string, canonicalCode: string): string {
  return createHmac('sha256', key).update(`${userId}:${canonicalCode}`, 'utf8').digest('hex');
}

/**
 * Stored form: HMAC-SHA256 under a pepper derived from ENCRYPTION_KEY (HKDF), over the user id and
 * the code. A code carries 50 bits: with a key anyone can compute, a database dump would be enough
 * to find every code offline; without ENCRYPTION_KEY the hashes are useless. The user id keeps one
 * row from matching any other account's code. Deterministic, so a code is still found by its hash.
 */
export function hashRecoveryCode(pepper: PepperSource, userId: string, canonicalCode: string): string {
  return hmac(pepper.derivedKeys(PEPPER_PURPOSE)[0], userId, canonicalCode);
}

/**
 * Every hash this code may be stored under: under the current key's pepper, under each retired
 * key's (ENCRYPTION_PREVIOUS_KEYS: codes survive a key rotation), and in the form used before
 * there was a pepper (HMAC keyed by the user id alone), so codes issued then work until used or
 * regenerated. Accepting that form weakens no newer row: a peppered hash never equals it.
 */
export function recoveryCodeHashes(pepper: PepperSource, userId: string, canonicalCode: string): string[] {
  const peppered = pepper.derivedKeys(PEPPER_PURPOSE).map((key) => hmac(key, userId, canonicalCode));
  const legacy = createHmac('sha256', userId).update(canonicalCode, 'utf8').digest('hex');
  return [...peppered, legacy];
}
