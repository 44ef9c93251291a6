import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OutboxMetrics } from './metric-sources';

/** The pool's counts as node-postgres keeps them. */
export interface PoolStats {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options?: { max?: number };
}

/** Where the gauges read their values at each scrape. */
export interface MetricSources {
  pool(): PoolStats | undefined;
  bcryptQueued(): number;
  outbox(): OutboxMetrics | undefined;
}

const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]; // seconds
const BCRYPT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2]; // seconds: cost 12 is ~0.25 s a hash
const WAIT_BUCKETS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]; // seconds in the bcrypt queue

/** Label values every series starts at 0 with, so rate() and dashboards work before the first event. */
export const KNOWN_OUTCOMES = {
  logins: { password: ['success', 'two_factor_required', 'invalid_credentials', 'account_locked', 'rate_limited'], passkey: ['success', 'passkey_rejected'], oauth: ['success', 'oauth_failed'] },
  passkeys: { registration: ['success', 'passkey_rejected'], login: ['success', 'passkey_rejected'], second_factor: ['success', 'passkey_rejected'] },
  refreshes: ['success', 'invalid_token', 'reuse_detected', 'account_locked'],
  twoFactor: { verifyTwoFactor: ['success', 'invalid_two_factor_code'] },
} as const;

/**
 * Every series of the service (CONTRACT.md, Administration: metrics), on a registry of this
 * service's own. No label can hold a user id, email, address or token: operation labels are the
 * schema's root field names, outcomes the error catalogue's codes or words the server chose,
 * policies the throttle's own names.
 */
export class BouncerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'operation' | 'outcome'>;
  readonly requestDuration: Histogram<'operation'>;
  readonly logins: Counter<'method' | 'outcome'>;
  readonly twoFactor: Counter<'operation' | 'outcome'>;
  readonly passkeys: Counter<'ceremony' | 'outcome'>;
  readonly refreshes: Counter<'outcome'>;
  readonly rateLimited: Counter<'operation'>;
  readonly lockouts: Counter<'policy'>;
  readonly bcryptDuration: Histogram;
  readonly bcryptWait: Histogram;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry }); // process, heap, GC and event-loop delay (nodejs_eventloop_lag_*)
    // Gauges named like counters (promtool refuses them); nodejs_active_{handles,requests,resources} remain.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    this.requests = new Counter({ name: 'bouncer_graphql_requests_total', help: 'GraphQL requests by operation (root field) and outcome (ok or the first error code).', labelNames: ['operation', 'outcome'], registers });
    this.requestDuration = new Histogram({ name: 'bouncer_graphql_request_duration_seconds', help: 'GraphQL request latency by operation (root field).', labelNames: ['operation'], buckets: REQUEST_BUCKETS, registers });
    this.logins = new Counter({ name: 'bouncer_logins_total', help: 'Sign-ins by method and outcome (two_factor_required: a challenge was issued).', labelNames: ['method', 'outcome'], registers });
    this.twoFactor = new Counter({ name: 'bouncer_two_factor_total', help: 'Second-factor checks (challenge steps and 2FA changes) by operation and outcome.', labelNames: ['operation', 'outcome'], registers });
    this.passkeys = new Counter({ name: 'bouncer_passkey_total', help: 'Passkey ceremonies by kind and outcome.', labelNames: ['ceremony', 'outcome'], registers });
    this.refreshes = new Counter({ name: 'bouncer_refreshes_total', help: 'Refresh-token rotations by outcome (reuse_detected: a retired token came back and its session was revoked).', labelNames: ['outcome'], registers });
    this.rateLimited = new Counter({ name: 'bouncer_rate_limited_total', help: 'Calls refused with RATE_LIMITED, by operation.', labelNames: ['operation'], registers });
    this.lockouts = new Counter({ name: 'bouncer_lockouts_total', help: 'Keys locked by a throttle policy (an account or an address reached its failure limit), and accounts that reached the consecutive-failure cap (policy login:consecutive).', labelNames: ['policy'], registers });
    this.bcryptDuration = new Histogram({ name: 'bouncer_bcrypt_duration_seconds', help: 'Time bcrypt took per hash or check.', buckets: BCRYPT_BUCKETS, registers });
    this.bcryptWait = new Histogram({ name: 'bouncer_bcrypt_queue_wait_seconds', help: 'Time a hash or check waited for a bcrypt slot.', buckets: WAIT_BUCKETS, registers });
    new Gauge({ name: 'bouncer_bcrypt_queue_length', help: 'Hashes and checks waiting for a bcrypt slot.', registers, collect() { this.set(sources.bcryptQueued()); } });

    const pool = (): PoolStats => sources.pool() ?? { totalCount: 0, idleCount: 0, waitingCount: 0 };
    new Gauge({
      name: 'bouncer_db_pool_connections',
      help: 'Database connections of this instance by state (in_use, idle).',
      labelNames: ['state'],
      registers,
      collect() {
        const p = pool();
        this.set({ state: 'in_use' }, p.totalCount - p.idleCount);
        this.set({ state: 'idle' }, p.idleCount);
      },
    });
    new Gauge({ name: 'bouncer_db_pool_waiting', help: 'Requests waiting for a database connection.', registers, collect() { this.set(pool().waitingCount); } });
    new Gauge({ name: 'bouncer_db_pool_max', help: 'Largest number of database connections (DB_POOL_SIZE).', registers, collect() { this.set(pool().options?.max ?? 0); } });

    new Gauge({
      name: 'bouncer_outbox_depth',
      help: 'Mails in the outbox waiting to be sent (0 without the mail module).',
      registers,
      async collect() {
        this.set((await sources.outbox()?.depth()) ?? 0);
      },
    });
    new Counter({
      name: 'bouncer_outbox_delivery_failures_total',
      help: 'Failed mail delivery attempts (0 without the mail module).',
      registers,
      collect() {
        this.reset();
        this.inc(sources.outbox()?.deliveryFailures() ?? 0);
      },
    });
    this.startAtZero();
  }

  private startAtZero(): void {
    for (const [method, outcomes] of Object.entries(KNOWN_OUTCOMES.logins)) for (const outcome of outcomes) this.logins.inc({ method, outcome }, 0);
    for (const [ceremony, outcomes] of Object.entries(KNOWN_OUTCOMES.passkeys)) for (const outcome of outcomes) this.passkeys.inc({ ceremony, outcome }, 0);
    for (const outcome of KNOWN_OUTCOMES.refreshes) this.refreshes.inc({ outcome }, 0);
    for (const [operation, outcomes] of Object.entries(KNOWN_OUTCOMES.twoFactor)) for (const outcome of outcomes) this.twoFactor.inc({ operation, outcome }, 0);
  }

  /** Prometheus text format (version 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
