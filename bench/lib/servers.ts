import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { forkChild, memoryOf, PROBE_SCRIPT, type ForkedChild } from './child';

/** A server the bench started in a process of its own: the service or a baseline rung. */
export interface BenchServer {
  name: string;
  origin: string;
  child: ForkedChild;
  /** Starts a fresh event-loop-delay window inside the server. */
  resetEventLoop(): Promise<void>;
  /** The window's event-loop delay, ms. */
  eventLoop(): Promise<EventLoopDelay>;
  memory(): { peakRssMb: number; rssMb: number };
  stop(): Promise<void>;
}

export interface EventLoopDelay {
  samples: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

const ROOT = resolve(__dirname, '..', '..', '..');
const SERVICE_MAIN = join(ROOT, 'dist', 'src', 'main.js');
const BASELINE_SCRIPT = join(__dirname, '..', 'servers', 'baseline-server.js');
const BCRYPT_RUNNER_SCRIPT = join(__dirname, '..', 'servers', 'bcrypt-runner.js');
/** Variables of the service that must come from the bench, never from the shell that runs it. */
const SERVICE_VARIABLES = /^(PORT|HOST|NODE_ENV|DATABASE_URL|REDIS_URL|JWT_|ENCRYPTION_|BCRYPT_|LOG_LEVEL|DB_|DATA_DIR|EMBEDDED_PG_PORT|LOGIN_|IP_|TWO_FACTOR_|REGISTRATION|GRAPHQL_|MAX_BODY|ACCESS_TOKEN|REFRESH_|SESSION_|REVOCATION_|TRUST_PROXY|CORS_|TLS_|SHUTDOWN_|METRICS_|OTEL_|AUDIT_|SMTP_|MAIL_|APP_URL|PASSWORD_RESETS_|VERIFICATION_EMAILS_|EMAIL_CHANGES_)/;
/** MAIL_FROM of every service the bench starts (the outbox section's raw sender uses it too). */
export const BENCH_MAIL_FROM = 'bench@localhost';

export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!SERVICE_VARIABLES.test(key)) env[key] = value;
  return { ...env, ...extra };
}

/** A port nothing listens on now (the service is given it as PORT, as an operator would). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolvePort(port));
    });
  });
}

function wrap(name: string, child: ForkedChild, origin: string): BenchServer {
  return {
    name,
    origin,
    child,
    resetEventLoop: async () => {
      await child.call('eld:reset', {}, 10_000);
    },
    eventLoop: () => child.call<EventLoopDelay>('eld:read', {}, 10_000),
    memory: () => memoryOf(child.pid),
    stop: () => child.stop(),
  };
}

/**
 * The WebAuthn relying party of the bench's service: the site whose web page would run the
 * ceremonies (http is allowed on localhost). The bench's authenticator signs for these.
 */
export const BENCH_WEBAUTHN = { rpId: 'localhost', origin: 'http://app.localhost:8080' } as const;

export interface ServiceOptions {
  name: string;
  databaseUrl: string;
  jwtPrivateKeyPem: string;
  encryptionKey: string;
  bcryptRounds: number;
  dbPoolSize?: number;
  bcryptConcurrency?: number;
  /** Count pg statements and Redis commands inside the service (the probe wraps pg's Client.query and ioredis's sendCommand). */
  countQueries?: boolean;
  /** REDIS_URL of the service (rate-limit counters in Redis); unset: in PostgreSQL. */
  redisUrl?: string;
  /** Further settings, over the bench's own (SMTP_URL of a local sink for the email sections). */
  env?: Record<string, string>;
}

/** `node dist/src/main.js` in production mode on loopback, with limits raised so nothing throttles the bench. */
export async function startService(options: ServiceOptions): Promise<BenchServer> {
  const port = await freePort();
  const env = cleanEnv({
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: options.databaseUrl,
    JWT_PRIVATE_KEY: options.jwtPrivateKeyPem,
    ENCRYPTION_KEY: options.encryptionKey,
    BCRYPT_ROUNDS: String(options.bcryptRounds),
    LOG_LEVEL: 'warn',
    DATA_DIR: join(ROOT, '.data', 'bench'),
    DB_POOL_SIZE: String(options.dbPoolSize ?? 10),
    WEBAUTHN_RP_ID: BENCH_WEBAUTHN.rpId,
    WEBAUTHN_ORIGINS: BENCH_WEBAUTHN.origin,
    ...(options.bcryptConcurrency ? { BCRYPT_CONCURRENCY: String(options.bcryptConcurrency) } : {}),
    ...(options.countQueries ? { BENCH_COUNT_QUERIES: '1' } : {}),
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl, RATE_LIMIT_KEY_PREFIX: `bench-${process.pid}-${port}` } : {}),
    // The bench logs in thousands of times from one address, half of those failing on purpose.
    LOGIN_DELAY_AFTER_FAILURES: '100',
    LOGIN_LOCK_AFTER_FAILURES: '100',
    IP_FAILURES_PER_WINDOW: '1000000',
    REGISTRATIONS_PER_WINDOW: '1000000',
    TWO_FACTOR_LOCK_AFTER_FAILURES: '100',
    // Thousands of passkey ceremonies from one address (the production default is 300 per window).
    PASSKEY_CEREMONIES_PER_WINDOW: '10000000',
    // Required in production. Nothing listens on the discard port: registrations' mail waits in the outbox.
    SMTP_URL: 'smtp://127.0.0.1:9',
    APP_URL: `http://127.0.0.1:${port}`,
    MAIL_FROM: BENCH_MAIL_FROM,
    ...options.env,
  });
  const { child } = await forkChild({ name: options.name, script: SERVICE_MAIN, env, execArgv: ['-r', PROBE_SCRIPT], ready: /Bouncer ready at (\S+)/ });
  return wrap(options.name, child, `http://127.0.0.1:${port}`);
}

export type Rung = 'r0' | 'r1' | 'r2' | 'r3p' | 'r5';

export async function startBaseline(rung: Rung, env: Record<string, string>): Promise<BenchServer> {
  const { child, ready } = await forkChild({
    name: `baseline ${rung}`,
    script: BASELINE_SCRIPT,
    args: [rung],
    env: cleanEnv({ NODE_ENV: 'production', ...env }),
    execArgv: ['-r', PROBE_SCRIPT],
    ready: /ready on port (\d+)/,
  });
  return wrap(`baseline ${rung}`, child, `http://127.0.0.1:${ready}`);
}

export async function startBcryptRunner(): Promise<ForkedChild> {
  const { child } = await forkChild({ name: 'bcrypt runner', script: BCRYPT_RUNNER_SCRIPT, env: cleanEnv({}), ready: /bcrypt runner ready/ });
  return child;
}
