import { createHmac, randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';
import { ServiceUnavailableError } from '../errors/app-errors';
import { normalizePassword } from './password-policy';

/**
 * bcrypt reads only the first 72 bytes of its input, so two long passwords sharing a prefix would
 * both verify. Every password is first reduced to a fixed 44-character HMAC-SHA256 digest (base64:
 * no NUL bytes, well under 72 bytes), then bcrypt-hashed. The HMAC key is a fixed domain separator,
 * not a secret: the digest is never stored, and it keeps hashes valid whatever keys rotate, while
 * stopping "shucking" with plain SHA-256 hashes leaked elsewhere.
 */
const PREHASH_KEY = 'bouncer/password-prehash/v1';

function prehash(password: string): string {
  return createHmac('sha256', PREHASH_KEY).update(normalizePassword(password), 'utf8').digest('base64');
}

export interface PasswordHasherOptions {
  rounds: number;
  /** Hashes running at once; bcrypt runs on libuv's shared pool, so this stays at or under its size. */
  concurrency: number;
  /** Hashes allowed to wait for a slot; past that, callers get SERVICE_UNAVAILABLE at once. */
  queueLimit: number;
}

/** A bounded queue in front of bcrypt: overload sheds requests with a clear error instead of growing. */
export class PasswordHasher {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private dummyHash: string | undefined;

  constructor(private readonly options: PasswordHasherOptions) {}

  get rounds(): number {
    return this.options.rounds;
  }

  async hash(password: string): Promise<string> {
    return this.slot(() => bcrypt.hash(prehash(password), this.options.rounds));
  }

  async verify(password: string, hash: string): Promise<boolean> {
    return this.slot(() => bcrypt.compare(prehash(password), hash));
  }

  /**
   * Spends the same bcrypt work as a real check, for an identifier that matches no account, so
   * response time does not tell which accounts exist.
   */
  async burn(password: string): Promise<void> {
    this.dummyHash ??= await bcrypt.hash(randomBytes(16).toString('base64'), this.options.rounds);
    await this.slot(() => bcrypt.compare(prehash(password), this.dummyHash!));
  }

  /** Precomputes the dummy hash so the first unknown-identifier login is not slower than others. */
  async warmUp(): Promise<void> {
    this.dummyHash ??= await bcrypt.hash(randomBytes(16).toString('base64'), this.options.rounds);
  }

  /** Whether a stored hash was made with fewer rounds than configured now (rehash on next login). */
  needsRehash(hash: string): boolean {
    return bcrypt.getRounds(hash) < this.options.rounds;
  }

  private async slot<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.options.concurrency) {
      if (this.waiting.length >= this.options.queueLimit) throw new ServiceUnavailableError(1);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
