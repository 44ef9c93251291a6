/** A bad command line: main prints the message alone, without a stack. */
export class UsageError extends Error {}

/** Command-line options of `npm run bench -- ...`; defaults finish in about 8 minutes on 2 cores. */
export interface BenchOptions {
  quick: boolean;
  bcryptRounds: number;
  /** BCRYPT_CONCURRENCY given to the service; undefined: the service's default (UV_THREADPOOL_SIZE or 4). */
  bcryptConcurrency: number | undefined;
  /** Measured repetitions of each scenario (medians are reported). */
  runs: number;
  /** Seconds of load per measured run. */
  queryRunS: number;
  loginRunS: number;
  /** Seconds per run of the one-at-a-time login timing comparison. */
  timingRunS: number;
  mixedRunS: number;
  warmupS: number;
  /** Accounts seeded for the main phases (the "1k" side of the scale comparison). */
  users: number;
  /** Accounts for the large side of the scale comparison; 0 skips it. */
  scaleUsers: number;
  /** Audit events on the large side of the audit-log comparison (the small side has 1,000). */
  auditRows: number;
  /** Connections of every authenticated-query run (ladder, refresh, mixed, pool sweep). */
  queryConnections: number;
  /** Connections of every bcrypt-bound run (L0 calls in flight, login, register). */
  loginConnections: number;
  /** Accounts seeded with TOTP on and a challenge each: one verifyTwoFactor each. */
  twoFactorAccounts: number;
  poolSizes: number[];
  /** Sections to run (all by default). */
  only: Set<string>;
  /** Write a V8 CPU profile of the main service under .data/bench-profiles. */
  profile: boolean;
  /** A Redis for the statement rows of a service with REDIS_URL counters; unset: those rows are skipped. */
  redisUrl: string | undefined;
}

export const SECTIONS = ['ladder', 'login', 'refresh', '2fa', 'passkey', 'statements', 'mixed', 'pool', 'scale', 'audit', 'email', 'outbox'] as const;

const USAGE = `usage: npm run bench -- [--quick] [--rounds N] [--bcrypt-concurrency N] [--runs N] [--users N] [--scale-users N]
                            [--only ${SECTIONS.join(',')}] [--profile] [--redis-url URL]
  --quick                   ~1 minute smoke run (CI): fewer users, short runs, no 1M seeds
  --rounds N                bcrypt rounds of the service and of L0 (default 12)
  --bcrypt-concurrency N    BCRYPT_CONCURRENCY of the service (default: the service's own)
  --runs N                  measured runs per scenario, medians reported (default 3)
  --users N                 accounts seeded for the main phases (default 1000)
  --scale-users N           accounts for the scale comparison (default 1000000; 0 skips)
  --audit-rows N            audit events on the large side of the audit-log comparison (default 1000000, --quick 20000)
  --only LIST               comma-separated sections to run
  --profile                 CPU profiles of the service per section and its pg statement count
                            (.data/bench-profiles; summarise with node dist/bench/tools/profile-summary.js FILE)
  --redis-url URL           also count a login's statements and Redis round trips with REDIS_URL counters
Env: DATABASE_URL (a server where the database bouncer_bench is created and dropped); unset: embedded PostgreSQL.`;

export function parseOptions(argv: string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const options: BenchOptions = {
    quick,
    bcryptRounds: 12,
    bcryptConcurrency: undefined,
    runs: quick ? 1 : 3,
    queryRunS: quick ? 1 : 2,
    loginRunS: quick ? 1.5 : 3,
    timingRunS: quick ? 1 : 2,
    mixedRunS: quick ? 2 : 4,
    warmupS: quick ? 0.5 : 1,
    users: quick ? 200 : 1000,
    scaleUsers: quick ? 0 : 1_000_000,
    auditRows: quick ? 20_000 : 1_000_000,
    queryConnections: 16,
    loginConnections: 8,
    twoFactorAccounts: quick ? 300 : 6000,
    poolSizes: quick ? [2, 10] : [2, 4, 10, 20],
    only: new Set(SECTIONS),
    profile: false,
    redisUrl: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    const int = (min: number): number => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < min) throw new UsageError(`${arg} must be a whole number >= ${min}\n${USAGE}`);
      return v;
    };
    switch (arg) {
      case '--quick':
        break;
      case '--rounds':
        options.bcryptRounds = int(10); // the service refuses fewer in production
        break;
      case '--bcrypt-concurrency':
        options.bcryptConcurrency = int(1);
        break;
      case '--runs':
        options.runs = int(1);
        break;
      case '--users':
        options.users = int(50);
        break;
      case '--scale-users':
        options.scaleUsers = int(0);
        break;
      case '--audit-rows':
        options.auditRows = int(2_000);
        break;
      case '--only': {
        const wanted = value().split(',').map((s) => s.trim());
        const unknown = wanted.filter((s) => !(SECTIONS as readonly string[]).includes(s));
        if (unknown.length) throw new UsageError(`unknown section(s) ${unknown.join(', ')}\n${USAGE}`);
        options.only = new Set(wanted);
        break;
      }
      case '--profile':
        options.profile = true;
        break;
      case '--redis-url':
        options.redisUrl = value();
        break;
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        throw new UsageError(`unknown option ${arg}\n${USAGE}`);
    }
  }
  return options;
}
