import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';

/**
 * The one place that reads process.env. Every variable is parsed and validated here; a bad value
 * stops the start with a ConfigError naming the variable (main prints it as one line).
 */

export type NodeEnv = 'development' | 'production' | 'test';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LimitsConfig {
  /** Password failures per account before growing delays start. */
  loginDelayAfterFailures: number;
  /** Password failures per account that lock it. */
  loginLockAfterFailures: number;
  /** How long an account lock lasts, seconds. */
  loginLockSeconds: number;
  /** Longest of the growing delays between failed logins of one account, seconds. */
  loginMaxDelaySeconds: number;
  /** Failed logins per client address per window. */
  ipFailuresPerWindow: number;
  /** Window of the per-address failure counter, seconds. */
  ipWindowSeconds: number;
  /** Two-factor failures per account that lock the second factor. */
  twoFactorLockAfterFailures: number;
  /** How long a two-factor lock lasts, seconds. */
  twoFactorLockSeconds: number;
  /** Registrations per client address per window. */
  registrationsPerWindow: number;
  /** Window of the registration counter, seconds. */
  registrationWindowSeconds: number;
  /** GraphQL document limits. */
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  maxCost: number;
  /** Password-checking fields (login, verifyTwoFactor, ...) allowed in one document. */
  maxCredentialFieldsPerDocument: number;
  /** Request body cap, bytes. */
  maxBodyBytes: number;
}

export interface Config {
  nodeEnv: NodeEnv;
  isProduction: boolean;
  host: string;
  port: number;
  /** Unset: an embedded PostgreSQL under dataDir is started. */
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPgPort: number;
  dbPoolSize: number;
  /** Milliseconds a request waits for a pooled connection before SERVICE_UNAVAILABLE. */
  dbConnectTimeoutMs: number;
  bcryptRounds: number;
  /** bcrypt jobs running at once (libuv pool threads they may occupy). */
  bcryptConcurrency: number;
  /** bcrypt jobs allowed to wait; past that the service sheds load with SERVICE_UNAVAILABLE. */
  bcryptQueueLimit: number;
  jwtPrivateKeyPem: string | undefined;
  /** Older public keys (PEM, separated) still published and accepted while tokens signed by them live. */
  jwtPreviousPublicKeysPem: string[];
  jwtIssuer: string;
  jwtAudience: string;
  accessTokenTtlSeconds: number;
  encryptionKey: Buffer | undefined;
  /** Retired encryption keys still used to decrypt (rotation). */
  encryptionPreviousKeys: Buffer[];
  refreshReuseGraceSeconds: number;
  sessionIdleSeconds: number;
  sessionAbsoluteSeconds: number;
  /** Live sessions per account; opening one more ends the least recently used (at most 100: the `sessions` list's cost). */
  sessionMaxPerUser: number;
  /** How often each instance reads revocations made by other instances, ms (must stay well under 5 s). */
  revocationPollMs: number;
  redisUrl: string | undefined;
  /** Namespace of every rate-limit key (instances sharing counters must share it). */
  rateLimitKeyPrefix: string;
  logLevel: LogLevel;
  /** Proxy hops in front of the service whose X-Forwarded-For is believed (0: use the socket address). */
  trustProxy: number;
  corsOrigins: string[];
  introspection: boolean;
  landingPage: boolean;
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  shutdownTimeoutMs: number;
  twoFactorIssuer: string;
  limits: LimitsConfig;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const DAY_SECONDS = 24 * 60 * 60;
const SANDBOX_ORIGIN = 'https://studio.apollographql.com'; // Apollo Sandbox calls local instances from here

function str(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  return trimmed === '' ? undefined : trimmed;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = str(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function base64Key(name: string, raw: string): Buffer {
  const key = Buffer.from(raw, 'base64');
  if (key.length !== 32 || key.toString('base64').replace(/=+$/, '') !== raw.replace(/=+$/, '')) {
    throw new ConfigError(name, 'must be 32 random bytes in base64 (openssl rand -base64 32)');
  }
  return key;
}

function pemList(raw: string | undefined): string[] {
  if (!raw) return [];
  return raw.match(/-----BEGIN [^-]+-----[\s\S]+?-----END [^-]+-----/g) ?? [];
}

export function loadConfig(env: Env = process.env): Config {
  const rawEnv = str(env, 'NODE_ENV') ?? 'development';
  if (!['development', 'production', 'test'].includes(rawEnv)) {
    throw new ConfigError('NODE_ENV', `must be development, production or test, got "${rawEnv}"`);
  }
  const nodeEnv = rawEnv as NodeEnv;
  const isProduction = nodeEnv === 'production';

  const bcryptRounds = int(env, 'BCRYPT_ROUNDS', 12, 4, 20);
  if (isProduction && bcryptRounds < 10) {
    throw new ConfigError('BCRYPT_ROUNDS', `must be at least 10 in production, got ${bcryptRounds}`);
  }

  const jwtPrivateKeyPem = str(env, 'JWT_PRIVATE_KEY')?.replace(/\\n/g, '\n');
  if (isProduction && !jwtPrivateKeyPem) {
    throw new ConfigError('JWT_PRIVATE_KEY', 'is required in production (PKCS#8 PEM of an EC P-256 or RSA >= 2048-bit key)');
  }
  const rawEncryptionKey = str(env, 'ENCRYPTION_KEY');
  if (isProduction && !rawEncryptionKey) {
    throw new ConfigError('ENCRYPTION_KEY', 'is required in production (32 random bytes in base64)');
  }
  const encryptionKey = rawEncryptionKey ? base64Key('ENCRYPTION_KEY', rawEncryptionKey) : undefined;
  const encryptionPreviousKeys = (str(env, 'ENCRYPTION_PREVIOUS_KEYS') ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean)
    .map((k) => base64Key('ENCRYPTION_PREVIOUS_KEYS', k));

  const databaseUrl = str(env, 'DATABASE_URL');
  if (databaseUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(databaseUrl);
    } catch {
      throw new ConfigError('DATABASE_URL', 'must be a URL like postgres://user:password@host:5432/database');
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      throw new ConfigError('DATABASE_URL', `must use postgres:// or postgresql://, got "${url.protocol}"`);
    }
  }

  const redisUrl = str(env, 'REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError('REDIS_URL', 'must be a URL like redis://host:6379');
  }

  const rateLimitKeyPrefix = str(env, 'RATE_LIMIT_KEY_PREFIX') ?? 'bouncer';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(rateLimitKeyPrefix)) {
    throw new ConfigError('RATE_LIMIT_KEY_PREFIX', 'must be 1 to 64 of letters, digits, "_", "." or "-"');
  }

  const logLevel = (str(env, 'LOG_LEVEL') ?? (nodeEnv === 'test' ? 'silent' : 'info')) as LogLevel;
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of fatal, error, warn, info, debug, trace, silent, got "${logLevel}"`);
  }

  const corsOrigins = (str(env, 'CORS_ORIGINS') ?? (isProduction ? '' : SANDBOX_ORIGIN))
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of corsOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError('CORS_ORIGINS', `each origin must look like https://app.example.com, got "${origin}"`);
    }
  }

  const tlsCertFile = str(env, 'TLS_CERT_FILE');
  const tlsKeyFile = str(env, 'TLS_KEY_FILE');
  if (Boolean(tlsCertFile) !== Boolean(tlsKeyFile)) {
    throw new ConfigError(tlsCertFile ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE', 'TLS_CERT_FILE and TLS_KEY_FILE go together');
  }

  const dataDirRaw = str(env, 'DATA_DIR') ?? '.data';
  const sessionIdleSeconds = int(env, 'SESSION_IDLE_SECONDS', 30 * DAY_SECONDS, 60, 365 * DAY_SECONDS);
  const sessionAbsoluteSeconds = int(env, 'SESSION_ABSOLUTE_SECONDS', 90 * DAY_SECONDS, 60, 3650 * DAY_SECONDS);
  if (sessionAbsoluteSeconds < sessionIdleSeconds) {
    throw new ConfigError('SESSION_ABSOLUTE_SECONDS', 'must not be shorter than SESSION_IDLE_SECONDS');
  }

  const limits: LimitsConfig = {
    loginDelayAfterFailures: int(env, 'LOGIN_DELAY_AFTER_FAILURES', 5, 1, 100),
    // NIST SP 800-63B 5.2.2: no more than 100 consecutive failures per account.
    loginLockAfterFailures: int(env, 'LOGIN_LOCK_AFTER_FAILURES', 20, 2, 100),
    loginLockSeconds: int(env, 'LOGIN_LOCK_SECONDS', 15 * 60, 1, DAY_SECONDS),
    loginMaxDelaySeconds: int(env, 'LOGIN_MAX_DELAY_SECONDS', 60, 1, 60 * 60),
    ipFailuresPerWindow: int(env, 'IP_FAILURES_PER_WINDOW', 100, 1, 1_000_000),
    ipWindowSeconds: int(env, 'IP_WINDOW_SECONDS', 15 * 60, 1, DAY_SECONDS),
    twoFactorLockAfterFailures: int(env, 'TWO_FACTOR_LOCK_AFTER_FAILURES', 10, 1, 100),
    twoFactorLockSeconds: int(env, 'TWO_FACTOR_LOCK_SECONDS', 15 * 60, 1, DAY_SECONDS),
    // Outside production every client is usually 127.0.0.1 (a developer, a test suite): one shared
    // address would exhaust a production-sized budget within minutes.
    registrationsPerWindow: int(env, 'REGISTRATIONS_PER_WINDOW', isProduction ? 20 : 10_000, 1, 1_000_000),
    registrationWindowSeconds: int(env, 'REGISTRATION_WINDOW_SECONDS', 60 * 60, 1, DAY_SECONDS),
    maxDepth: int(env, 'GRAPHQL_MAX_DEPTH', 15, 2, 100),
    maxAliases: int(env, 'GRAPHQL_MAX_ALIASES', 15, 1, 1000),
    maxTokens: int(env, 'GRAPHQL_MAX_TOKENS', 2000, 100, 100_000),
    maxDirectives: int(env, 'GRAPHQL_MAX_DIRECTIVES', 50, 1, 1000),
    maxCost: int(env, 'GRAPHQL_MAX_COST', 5000, 100, 1_000_000),
    maxCredentialFieldsPerDocument: int(env, 'GRAPHQL_MAX_CREDENTIAL_FIELDS', 3, 1, 15),
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', 100 * 1024, 1024, 10 * 1024 * 1024),
  };

  return {
    nodeEnv,
    isProduction,
    host: str(env, 'HOST') ?? '0.0.0.0',
    port: int(env, 'PORT', 4000, 0, 65535),
    databaseUrl,
    dataDir: isAbsolute(dataDirRaw) ? dataDirRaw : resolve(process.cwd(), dataDirRaw),
    embeddedPgPort: int(env, 'EMBEDDED_PG_PORT', 54329, 1024, 65535),
    dbPoolSize: int(env, 'DB_POOL_SIZE', 10, 1, 200),
    dbConnectTimeoutMs: int(env, 'DB_CONNECT_TIMEOUT_MS', 3000, 100, 60_000),
    bcryptRounds,
    // More hashes at once than cores only starves the event loop and PostgreSQL (bench: `me` p99 halves
    // on 2 cores going from 4 to 2) without more logins per second.
    bcryptConcurrency: int(env, 'BCRYPT_CONCURRENCY', Math.min(Number(env.UV_THREADPOOL_SIZE ?? 4), availableParallelism()), 1, 128),
    bcryptQueueLimit: int(env, 'BCRYPT_QUEUE_LIMIT', 200, 0, 100_000),
    jwtPrivateKeyPem,
    jwtPreviousPublicKeysPem: pemList(str(env, 'JWT_PREVIOUS_PUBLIC_KEYS')?.replace(/\\n/g, '\n')),
    jwtIssuer: str(env, 'JWT_ISSUER') ?? 'bouncer',
    jwtAudience: str(env, 'JWT_AUDIENCE') ?? 'bouncer',
    accessTokenTtlSeconds: int(env, 'ACCESS_TOKEN_TTL_SECONDS', 15 * 60, 30, DAY_SECONDS),
    encryptionKey,
    encryptionPreviousKeys,
    refreshReuseGraceSeconds: int(env, 'REFRESH_REUSE_GRACE_SECONDS', 10, 0, 300),
    sessionIdleSeconds,
    sessionAbsoluteSeconds,
    sessionMaxPerUser: int(env, 'SESSION_MAX_PER_USER', 100, 1, 100),
    revocationPollMs: int(env, 'REVOCATION_POLL_MS', 1000, 100, 4000),
    redisUrl,
    rateLimitKeyPrefix,
    logLevel,
    trustProxy: int(env, 'TRUST_PROXY', 0, 0, 10),
    corsOrigins,
    introspection: bool(env, 'GRAPHQL_INTROSPECTION', !isProduction),
    landingPage: bool(env, 'GRAPHQL_LANDING_PAGE', !isProduction),
    tlsCertFile,
    tlsKeyFile,
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 120_000),
    twoFactorIssuer: str(env, 'TWO_FACTOR_ISSUER') ?? 'Bouncer',
    limits,
  };
}
