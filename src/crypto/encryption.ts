import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12; // the size GCM is specified for
const FORMAT = 'v1';

function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/**
 * AES-256-GCM for secrets kept at rest (TOTP secrets, the grace copy of a rotated refresh token).
 * Each ciphertext names the key that made it, so ENCRYPTION_KEY can rotate: the new key encrypts,
 * retired keys (ENCRYPTION_PREVIOUS_KEYS) still decrypt.
 */
export class Encryptor {
  private readonly currentId: string;
  private readonly keys = new Map<string, Buffer>();
  private readonly derived = new Map<string, Buffer[]>();

  constructor(current: Buffer, previous: Buffer[] = []) {
    this.currentId = keyIdOf(current);
    for (const key of [current, ...previous]) this.keys.set(keyIdOf(key), key);
  }

  /**
   * A 256-bit key for one purpose (HKDF-SHA256, `purpose` as info) from each key, the current key's
   * first, then each of ENCRYPTION_PREVIOUS_KEYS: what the current key made, and what retired keys
   * made, can both be recomputed. The keys themselves never leave this class.
   */
  derivedKeys(purpose: string): Buffer[] {
    let keys = this.derived.get(purpose);
    if (!keys) {
      keys = [...this.keys.values()].map((key) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), purpose, 32)));
      this.derived.set(purpose, keys);
    }
    return keys;
  }

  encrypt(plaintext: string, associatedData = ''): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.keys.get(this.currentId)!, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, this.currentId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  /** Throws when the key is unknown or the ciphertext was tampered with. */
  decrypt(payload: string, associatedData = ''): string {
    const [format, keyId, iv, tag, body] = payload.split('.');
    const key = this.keys.get(keyId ?? '');
    if (format !== FORMAT || !key || !iv || !tag || body === undefined) throw new Error('undecryptable payload');
    const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }
}
