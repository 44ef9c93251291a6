import { createHmac, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import bcrypt from 'bcrypt';
import { serviceUnavailable } from '../errors/core-errors';
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

/** Lane of work with no client address (CLI, internal re-checks). */
const NO_LANE = '';

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * A bounded, fair queue in front of bcrypt: waiting work is grouped in lanes by client address and
 * served round-robin. When the queue is full, a newcomer from a shorter lane takes the place of
 * the newest job of the longest lane (which is shed), so one client flooding bcrypt, even with
 * correct passwords, cannot push other users' logins into SERVICE_UNAVAILABLE: it only sheds its
 * own. Overload sheds with a clear error instead of growing.
 */
export class PasswordHasher {
  private running = 0;
  private waitingCount = 0;
  /** Lane → waiting jobs; Map order is the round-robin order (a served lane moves to the back). */
  private readonly lanes = new Map<string, Waiter[]>();
  private dummyHash: string | undefined;
  /** Told, for each job, how long it waited for a slot and how long bcrypt took, seconds (metrics). */
  private readonly jobListeners: Array<(waitSeconds: number, workSeconds: number) => void> = [];

  constructor(private readonly options: PasswordHasherOptions) {}

  onJob(listener: (waitSeconds: number, workSeconds: number) => void): void {
    this.jobListeners.push(listener);
  }

  get rounds(): number {
    return this.options.rounds;
  }

  async hash(password: string, lane: string | null = null): Promise<string> {
    return this.slot(lane, () => bcrypt.hash(prehash(password), this.options.rounds));
  }

  async verify(password: string, hash: string, lane: string | null = null): Promise<boolean> {
    return this.slot(lane, () => bcrypt.compare(prehash(password), hash));
  }

  /** Jobs waiting for a slot now (all lanes). */
  get queued(): number {
    return this.waitingCount;
  }

  /**
   * Spends the same bcrypt work as a real check, for an identifier that matches no account, so
   * response time does not tell which accounts exist.
   */
  async burn(password: string, lane: string | null = null): Promise<void> {
    this.dummyHash ??= await bcrypt.hash(randomBytes(16).toString('base64'), this.options.rounds);
    await this.slot(lane, () => bcrypt.compare(prehash(password), this.dummyHash!));
  }

  /** Precomputes the dummy hash so the first unknown-identifier login is not slower than others. */
  async warmUp(): Promise<void> {
    this.dummyHash ??= await bcrypt.hash(randomBytes(16).toString('base64'), this.options.rounds);
  }

  /** Whether a stored hash was made with fewer rounds than configured now (rehash on next login). */
  needsRehash(hash: string): boolean {
    return bcrypt.getRounds(hash) < this.options.rounds;
  }

  private async slot<T>(lane: string | null, work: () => Promise<T>): Promise<T> {
    const queuedAt = performance.now();
    if (this.running >= this.options.concurrency) {
      const key = lane ?? NO_LANE;
      const queue = this.lanes.get(key) ?? [];
      if (this.waitingCount >= this.options.queueLimit && !this.shedFromLongerLane(queue.length)) throw serviceUnavailable(1);
      if (queue.length === 0) this.lanes.set(key, queue);
      this.waitingCount++;
      await new Promise<void>((resolve, reject) => queue.push({ resolve, reject }));
    } else {
      this.running++;
    }
    const startedAt = performance.now();
    try {
      return await work();
    } finally {
      this.handOver();
      const done = performance.now();
      for (const listener of this.jobListeners) listener((startedAt - queuedAt) / 1000, (done - startedAt) / 1000);
    }
  }

  /** Gives the freed slot to the next lane in turn (its oldest job), or frees it. */
  private handOver(): void {
    const next = this.lanes.entries().next();
    if (next.done) {
      this.running--;
      return;
    }
    const [key, queue] = next.value;
    const waiter = queue.shift()!;
    this.lanes.delete(key);
    if (queue.length > 0) this.lanes.set(key, queue); // to the back of the round
    this.waitingCount--;
    waiter.resolve();
  }

  /** Frees a place by shedding the newest job of a lane longer than the newcomer's would become. */
  private shedFromLongerLane(newcomerLaneLength: number): boolean {
    let longest: [string, Waiter[]] | undefined;
    for (const entry of this.lanes) if (!longest || entry[1].length > longest[1].length) longest = entry;
    if (!longest || longest[1].length <= newcomerLaneLength + 1) return false;
    const [key, queue] = longest;
    queue.pop()!.reject(serviceUnavailable(1));
    if (queue.length === 0) this.lanes.delete(key);
    this.waitingCount--;
    return true;
  }
}
