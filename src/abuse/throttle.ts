import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { sha256Hex } from '../crypto/random';
import { rateLimited, serviceUnavailable } from '../errors/core-errors';
import type { Statement } from '../db/statement';
import type { CounterSpec, LimiterStore } from './limiter-store';
import type { ThrottleCheck, ThrottlePolicy } from './throttle-policy';
import type { CounterSpecSql } from './throttle-steps';

/** A check whose key the caller's statement yields (an SQL text expression), hashed there as `specs` hashes keys in memory. */
export interface SqlKeyedCheck {
  readonly policy: string;
  readonly keySql: string;
}

/** A policy's counters for one hashed key. */
type Taken = CounterSpec;

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

  /**
   * A right credential: failure counters reset or refund as their policies say. `count` names
   * further checks counted like `Throttle.count` in the same round trip (a successful sign-in on
   * its own limit): then a store failure refuses (SERVICE_UNAVAILABLE) and an exhausted one answers
   * RATE_LIMITED, the success being settled either way.
   */
  async succeeded(options: { count?: ThrottleCheck[] } = {}): Promise<void> {
    const then = this.throttle.specs(options.count ?? []);
    if (!this.end()) {
      if (then.length) await this.throttle.count(options.count!);
      return;
    }
    await this.throttle.afterSuccess(this.taken, then);
  }

  /** A wrong credential: the points stay; holds and locks follow. Returns whether this failure locked a key. */
  async failed(): Promise<{ locked: boolean }> {
    if (!this.end()) return { locked: false };
    return this.throttle.afterFailure(this.taken);
  }

  /**
   * A right credential whose success the caller writes in its own statement: the store's settle
   * steps are added to `q`, run once `gate` (a FROM clause) yields a row. Returns what to call when
   * the statement did run them (the attempt then has its verdict); null when the store has no such
   * steps (Redis): the caller then calls `succeeded()`.
   */
  succeedWithin(q: Statement, gate: string): (() => void) | null {
    if (this.ended || !this.throttle.settleSteps(q, this.taken, gate)) return null;
    return () => {
      this.ended = true;
    };
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
 * The one throttling mechanism: applies ThrottlePolicy data on counters in one shared store
 * (PostgreSQL by default, Redis with REDIS_URL), so every instance behind a load balancer sees the
 * same counts.
 *
 * - Counting first: an attempt consumes its points atomically before any credential work, so a
 *   burst of parallel requests gets no more checks than the policy allows (counting after the
 *   check let 90 codes through a limit of 10).
 * - Holds: a key under a growing delay or a lock is refused before anything is counted.
 * - One round trip per step: beginning an attempt, and settling it, are one store call each
 *   whatever number of policies the attempt falls under (src/abuse/limiter-store.ts).
 * - Keys are hashed: bounded length, and no email address or identifier sits in the store.
 * - Store failures fail closed (SERVICE_UNAVAILABLE): never a credential check without counters.
 */
export class Throttle {
  private readonly policies = new Map<string, ThrottlePolicy>();
  /** Told the policy's name each time a failure locks a key (metrics); never the key. */
  private readonly lockListeners: Array<(policy: string) => void> = [];

  constructor(
    private readonly store: LimiterStore,
    policies: ThrottlePolicy[],
    private readonly keyPrefix: string,
    private readonly logger: Logger,
  ) {
    for (const policy of policies) {
      if (this.policies.has(policy.name)) throw new Error(`throttle policy ${policy.name} is declared twice`);
      this.policies.set(policy.name, policy);
    }
  }

  /**
   * Counts an attempt on every check (null keys skipped), refusing with RATE_LIMITED when a key is
   * held or out of points; a refusal hands back whatever this call had taken.
   */
  async begin(checks: ThrottleCheck[]): Promise<Attempt> {
    const taken = this.specs(checks);
    const waitMs = await this.guard('begin', () => this.store.begin(taken));
    if (waitMs !== null) throw rateLimited(waitMs / 1000);
    return new Attempt(this, taken);
  }

  /**
   * PostgreSQL store: an expression that begins an attempt on `checks` when the caller's statement
   * evaluates it (answering what `begin` would: ms to wait, or NULL), for a flow whose keys come
   * from that statement's own row (the 2FA step's account is its challenge's); the caller hands the
   * answer to `begun`. Null when the store has no such step (Redis): the caller calls `begin`.
   */
  beginExpression(q: Statement, checks: Array<ThrottleCheck | SqlKeyedCheck>): string | null {
    const steps = this.store.steps;
    if (!steps) return null;
    const specs = checks.flatMap((check): CounterSpecSql[] => {
      const hashed =
        'keySql' in check ? `encode(sha256(convert_to(${check.keySql}, 'UTF8')), 'hex')` : check.key === null ? null : `${q.bind(sha256Hex(check.key))}::text`;
      if (hashed === null) return [];
      // The spec of the empty key: its keys are the parts the hashed key follows.
      const parts = this.spec(this.declared(check.policy), (part) => part);
      const key = (part: string) => `(${q.bind(part)}::text || ${hashed})`;
      return [{ ...parts, count: key(parts.count), hold: parts.hold === null ? null : key(parts.hold) }];
    });
    return steps.begin(q, specs);
  }

  /** The attempt a `beginExpression` began on `checks` (their keys as the statement yielded them); RATE_LIMITED when it answered a wait. */
  begun(checks: ThrottleCheck[], waitMs: string | number | null): Attempt {
    if (waitMs !== null) throw rateLimited(Number(waitMs) / 1000);
    return new Attempt(this, this.specs(checks));
  }

  /** Runs `work` as one attempt (begun here on `checks`, or already) and settles it in a `finally`: no attempt is left without a verdict. */
  async attempt<T>(checks: ThrottleCheck[] | Attempt, work: (attempt: Attempt) => Promise<T>): Promise<T> {
    const attempt = checks instanceof Attempt ? checks : await this.begin(checks);
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

  /** Clears the counters, holds and locks of these keys (a password reset clears the account's lockouts). */
  async reset(checks: ThrottleCheck[]): Promise<void> {
    const specs = this.specs(checks);
    if (specs.length === 0) return;
    await this.guard('reset', () => this.store.settle(specs.map((spec) => ({ spec, mode: 'reset' as const })), []));
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  onLock(listener: (policy: string) => void): void {
    this.lockListeners.push(listener);
  }

  /** @internal The store's view of these checks (null keys skipped, keys hashed). */
  specs(checks: ThrottleCheck[]): CounterSpec[] {
    return checks.flatMap((check) => {
      if (check.key === null) return [];
      const hashed = sha256Hex(check.key);
      return [this.spec(this.declared(check.policy), (part) => part + hashed)];
    });
  }

  /** @internal A success written by the caller's statement (Attempt.succeedWithin); false when the store cannot. */
  settleSteps(q: Statement, taken: Taken[], gate: string): boolean {
    if (!this.store.steps) return false;
    this.store.steps.settle(q, this.settledOnSuccess(taken), gate);
    return true;
  }

  /** @internal Attempt's verdicts. */
  async afterSuccess(taken: Taken[], then: CounterSpec[]): Promise<void> {
    const settled = this.settledOnSuccess(taken);
    if (then.length === 0) {
      if (settled.length === 0) return;
      try {
        await this.store.settle(settled, []);
      } catch (error) {
        // The credential was right: failing the request now would only punish its owner.
        this.logger.warn({ err: error }, 'could not settle a successful attempt');
      }
      return;
    }
    const waitMs = await this.guard('succeeded', () => this.store.settle(settled, then));
    if (waitMs !== null) throw rateLimited(waitMs / 1000);
    // Counted like `count`: a policy that does not keep its point settles it now (none does today).
    const unkept = then.filter((spec) => spec.onSuccess !== 'keep');
    if (unkept.length) await this.afterSuccess(unkept, []);
  }

  /** @internal */
  async afterFailure(taken: Taken[]): Promise<{ locked: boolean }> {
    const locked = await this.guard('failed', () => this.store.fail(taken));
    if (locked && this.lockListeners.length) {
      for (const spec of taken) {
        if (!spec.lock) continue;
        // `prefix:policy:lock:hash`: the listener learns the policy, never the key.
        const policy = spec.lock.slice(this.keyPrefix.length + 1, spec.lock.lastIndexOf(':lock:'));
        for (const listener of this.lockListeners) listener(policy);
      }
    }
    return { locked };
  }

  /** @internal No verdict: every point back. */
  async refund(taken: Taken[]): Promise<void> {
    try {
      await this.store.settle(
        taken.map((spec) => ({ spec, mode: 'refund' as const })),
        [],
      );
    } catch (error) {
      this.logger.warn({ err: error }, 'could not refund an attempt without verdict');
    }
  }

  /** The policy of that name as configured (tests and flows read their limits here). */
  policy(name: string): ThrottlePolicy {
    return this.declared(name);
  }

  private declared(name: string): ThrottlePolicy {
    const known = this.policies.get(name);
    if (!known) throw new Error(`throttle policy ${name} is not declared by any module`);
    return known;
  }

  /** What a success does to each point taken; a point a policy keeps needs no call to the store. */
  private settledOnSuccess(taken: Taken[]): Array<{ spec: CounterSpec; mode: CounterSpec['onSuccess'] }> {
    return taken.filter((spec) => spec.onSuccess !== 'keep').map((spec) => ({ spec, mode: spec.onSuccess }));
  }

  /** `key(part)`: the store's key of the hashed key after `part` (`prefix:policy:`, `prefix:policy:hold:`, ...). */
  private spec(policy: ThrottlePolicy, key: (part: string) => string): CounterSpec {
    const prefix = `${this.keyPrefix}:${policy.name}`;
    const held = policy.lockSeconds !== undefined || policy.delays !== undefined;
    return {
      count: key(`${prefix}:`),
      hold: held ? key(`${prefix}:hold:`) : null,
      lock: policy.lockSeconds ? key(`${prefix}:lock:`) : null,
      points: policy.points,
      windowMs: policy.windowSeconds * 1000,
      capMs: (policy.lockSeconds ?? policy.windowSeconds) * 1000,
      onSuccess: policy.onSuccess,
      lockMs: policy.lockSeconds ? policy.lockSeconds * 1000 : null,
      delayAfterFailures: policy.delays?.afterFailures ?? null,
      delayMaxMs: policy.delays ? policy.delays.maxSeconds * 1000 : null,
    };
  }

  /** Limit answers pass through; anything else from the store means it is unreachable: fail closed. */
  private async guard<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof GraphQLError) throw error;
      this.logger.error({ err: error, operation, store: this.store.kind }, 'rate-limit store failed: refusing');
      throw serviceUnavailable();
    }
  }
}
