import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { RateLimiterRes, type RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import { sha256Hex } from '../crypto/random';
import { rateLimited, serviceUnavailable } from '../errors/core-errors';
import type { LimiterStore } from './limiter-store';
import type { ThrottleCheck, ThrottlePolicy } from './throttle-policy';

interface Limiters {
  /** Attempts in the window; consumed before the credential is looked at. */
  count: RateLimiterStoreAbstract;
  /** Holds (growing delays) and locks: any stored row means "refused until it expires". */
  hold?: RateLimiterStoreAbstract;
  /** Zero-point limiter whose first consume per lock period reports the lock (exactly one audit event). */
  lock?: RateLimiterStoreAbstract;
}

interface Taken {
  policy: ThrottlePolicy;
  key: string;
  limiters: Limiters;
}

/**
 * One attempt at a credential (password, code, passkey assertion), counted on every policy it
 * falls under *before* the credential is checked. It must end in exactly one verdict:
 * `succeeded()`, `failed()`, or `settle()` when no verdict was reached (load shed, database error,
 * dead challenge), which hands every point back. `Throttle.attempt` calls settle in a `finally`.
 */
export class Attempt {
  private ended = false;

  constructor(
    private readonly throttle: Throttle,
    private readonly taken: Taken[],
  ) {}

  /** A right credential: failure counters reset or refund as their policies say. */
  async succeeded(): Promise<void> {
    if (this.end()) await this.throttle.afterSuccess(this.taken);
  }

  /** A wrong credential: the points stay; holds and locks follow. Returns whether this failure locked a key. */
  async failed(): Promise<{ locked: boolean }> {
    if (!this.end()) return { locked: false };
    return this.throttle.afterFailure(this.taken);
  }

  /** No verdict: every point goes back. Does nothing after a verdict. */
  async settle(): Promise<void> {
    if (this.end()) await this.throttle.refund(this.taken);
  }

  private end(): boolean {
    if (this.ended) return false;
    this.ended = true;
    return true;
  }
}

/**
 * The one throttling mechanism: applies ThrottlePolicy data on rate-limiter-flexible counters in
 * one shared store (PostgreSQL by default, Redis with REDIS_URL), so every instance behind a load
 * balancer sees the same counts.
 *
 * - Counting first: an attempt consumes its points atomically before any credential work, so a
 *   burst of parallel requests gets no more checks than the policy allows (counting after the
 *   check let 90 codes through a limit of 10).
 * - Holds: a key under a growing delay or a lock is refused before anything is counted.
 * - Keys are hashed: bounded length, and no email address or identifier sits in the store.
 * - Store failures fail closed (SERVICE_UNAVAILABLE): never a credential check without counters.
 */
export class Throttle {
  private readonly limiters = new Map<string, { policy: ThrottlePolicy; limiters: Limiters }>();
  /** Told the policy's name each time a failure locks a key (metrics); never the key. */
  private readonly lockListeners: Array<(policy: string) => void> = [];

  constructor(
    private readonly store: LimiterStore,
    policies: ThrottlePolicy[],
    private readonly keyPrefix: string,
    private readonly logger: Logger,
  ) {
    for (const policy of policies) {
      if (this.limiters.has(policy.name)) throw new Error(`throttle policy ${policy.name} is declared twice`);
      this.limiters.set(policy.name, { policy, limiters: this.create(policy) });
    }
  }

  /**
   * Counts an attempt on every check (null keys skipped), refusing with RATE_LIMITED when a key is
   * held or out of points; a refusal hands back whatever this call had taken.
   */
  async begin(checks: ThrottleCheck[]): Promise<Attempt> {
    const taken: Taken[] = [];
    try {
      await this.guard('begin', async () => {
        for (const check of checks) {
          if (check.key === null) continue;
          const hashed = sha256Hex(check.key);
          const { policy, limiters } = this.declared(check.policy);
          await this.refuseIfHeld(limiters, hashed);
          await limiters.count.consume(hashed).catch(async (reason: unknown) => {
            // The store adds the point before it compares: a refused attempt must not stay counted,
            // or a burst of refusals would keep the key over its limit after the burst.
            if (reason instanceof RateLimiterRes) await limiters.count.reward(hashed, 1);
            return refuse(policy.lockSeconds ?? policy.windowSeconds)(reason);
          });
          taken.push({ policy, key: hashed, limiters });
          if (limiters.lock) {
            // A lock placed between the hold check and the count reset the count, so the count alone
            // let this attempt through: look again.
            await this.refuseIfHeld(limiters, hashed);
          }
        }
      });
    } catch (error) {
      await this.refund(taken);
      throw error;
    }
    return new Attempt(this, taken);
  }

  /** Runs `work` as one attempt and settles it in a `finally`: no attempt is left without a verdict. */
  async attempt<T>(checks: ThrottleCheck[], work: (attempt: Attempt) => Promise<T>): Promise<T> {
    const attempt = await this.begin(checks);
    try {
      return await work(attempt);
    } finally {
      await attempt.settle();
    }
  }

  /** Counts one event that has no verdict (a registration, a successful sign-in); RATE_LIMITED past the points. */
  async count(checks: ThrottleCheck[]): Promise<void> {
    const attempt = await this.begin(checks);
    await attempt.succeeded();
  }

  /** Forgets every count, hold and lock of these keys (a password reset ends a run of failures). */
  async reset(checks: ThrottleCheck[]): Promise<void> {
    await this.guard('reset', async () => {
      for (const check of checks) {
        if (check.key === null) continue;
        const hashed = sha256Hex(check.key);
        const { limiters } = this.declared(check.policy);
        await Promise.all([limiters.count.delete(hashed), limiters.hold?.delete(hashed), limiters.lock?.delete(hashed)]);
      }
    });
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  onLock(listener: (policy: string) => void): void {
    this.lockListeners.push(listener);
  }

  /** @internal Attempt's verdicts. */
  async afterSuccess(taken: Taken[]): Promise<void> {
    try {
      await Promise.all(
        taken.map(({ policy, key, limiters }) => {
          if (policy.onSuccess === 'refund') return limiters.count.reward(key, 1);
          if (policy.onSuccess === 'reset') return Promise.all([limiters.count.delete(key), limiters.hold?.delete(key)]);
          return undefined;
        }),
      );
    } catch (error) {
      // The credential was right: failing the request now would only punish its owner.
      this.logger.warn({ err: error }, 'could not settle a successful attempt');
    }
  }

  /** @internal */
  async afterFailure(taken: Taken[]): Promise<{ locked: boolean }> {
    return this.guard('failed', async () => {
      let locked = false;
      for (const { policy, key, limiters } of taken) {
        if (!limiters.hold) continue;
        const failures = (await limiters.count.get(key))?.consumedPoints ?? 1;
        if (policy.lockSeconds && failures >= policy.points) {
          const first = await limiters.lock!.consume(key).then(
            () => false,
            (res: unknown) => {
              if (res instanceof RateLimiterRes) return res.isFirstInDuration;
              throw res;
            },
          );
          locked ||= first;
          if (first) for (const listener of this.lockListeners) listener(policy.name);
          await limiters.hold.block(key, policy.lockSeconds);
          // The next cycle after the lock starts from zero failures.
          await limiters.count.delete(key);
        } else if (policy.delays && failures >= policy.delays.afterFailures) {
          const seconds = Math.min(2 ** (failures - policy.delays.afterFailures), policy.delays.maxSeconds);
          await limiters.hold.block(key, seconds);
        }
      }
      return { locked };
    });
  }

  /** @internal No verdict: every point back. */
  async refund(taken: Taken[]): Promise<void> {
    try {
      await Promise.all(taken.map(({ key, limiters }) => limiters.count.reward(key, 1)));
    } catch (error) {
      this.logger.warn({ err: error }, 'could not refund an attempt without verdict');
    }
  }

  /** The policy of that name as configured (tests and flows read their limits here). */
  policy(name: string): ThrottlePolicy {
    return this.declared(name).policy;
  }

  private declared(name: string): { policy: ThrottlePolicy; limiters: Limiters } {
    const known = this.limiters.get(name);
    if (!known) throw new Error(`throttle policy ${name} is not declared by any module`);
    return known;
  }

  private create(policy: ThrottlePolicy): Limiters {
    const prefix = `${this.keyPrefix}:${policy.name}`;
    const held = policy.lockSeconds !== undefined || policy.delays !== undefined;
    const holdSeconds = Math.max(policy.lockSeconds ?? 0, policy.delays?.maxSeconds ?? 0);
    return {
      count: this.store.limiter({ keyPrefix: prefix, points: policy.points, duration: policy.windowSeconds }),
      hold: held ? this.store.limiter({ keyPrefix: `${prefix}:hold`, points: 0, duration: holdSeconds }) : undefined,
      lock: policy.lockSeconds ? this.store.limiter({ keyPrefix: `${prefix}:lock`, points: 0, duration: policy.lockSeconds }) : undefined,
    };
  }

  private async refuseIfHeld(limiters: Limiters, key: string): Promise<void> {
    if (!limiters.hold) return;
    const held = remainingMs(await limiters.hold.get(key));
    if (held > 0) throw rateLimited(held / 1000);
  }

  /** Limit answers pass through; anything else from the store means it is unreachable: fail closed. */
  private async guard<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof GraphQLError) throw error;
      if (error instanceof RateLimiterRes) throw rateLimited(remainingMs(error) / 1000);
      this.logger.error({ err: error, operation, store: this.store.kind }, 'rate-limit store failed: refusing');
      throw serviceUnavailable();
    }
  }
}

function remainingMs(res: RateLimiterRes | null): number {
  return res ? Math.max(res.msBeforeNext, 0) : 0;
}

/** Turns a limiter's over-limit rejection into RATE_LIMITED (retryAfter capped); store errors pass on. */
function refuse(capSeconds: number): (reason: unknown) => never {
  return (reason) => {
    if (reason instanceof RateLimiterRes) throw rateLimited(Math.min(remainingMs(reason) / 1000, capSeconds));
    throw reason;
  };
}
