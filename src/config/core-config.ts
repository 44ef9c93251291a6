import { isAbsolute, resolve } from 'node:path';
import { base64Key, bool, ConfigError, DAY_SECONDS, int, pemList, str, type Env } from './parse';

const SANDBOX_ORIGIN = 'https://studio.apollographql.com'; // Apollo Sandbox calls local instances from here

/**
 * The core settings (HTTP, database, keys, sessions, shared limits). Each feature module reads its
 * own (FeatureModule.readConfig); src/app/config.ts runs every reader at start, the only place
 * that is handed process.env.
 */

export type NodeEnv = 'development' | 'production' | 'test';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Limits every flow shares; each sign-in method adds its own (its module's config). */
export interface LimitsConfig {
  /** Failed credential checks (passwords, codes) per client address per window. */
  ipFailuresPerWindow: number;
  /** Window of the per-address failure counter, seconds. */
  ipWindowSeconds: number;
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

export interface CoreConfig {
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
  limits: LimitsConfig;
}

export function readCoreConfig(env: Env): CoreConfig {
  const rawEnv = str(env, 'NODE_ENV') ?? 'development';
  if (!['development', 'production', 'test'].includes(rawEnv)) {
    throw new ConfigError('NODE_ENV', `must be development, production or test, got "${rawEnv}"`);
  }
  const nodeEnv = rawEnv as NodeEnv;
  const isProduction = nodeEnv === 'production';

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
    if (origin === '*' && isProduction) {
      throw new ConfigError('CORS_ORIGINS', '"*" lets every web page call the service; list the origins that may, e.g. https://app.example.com');
    }
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
    ipFailuresPerWindow: int(env, 'IP_FAILURES_PER_WINDOW', 100, 1, 1_000_000),
    ipWindowSeconds: int(env, 'IP_WINDOW_SECONDS', 15 * 60, 1, DAY_SECONDS),
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
    limits,
  };
}
