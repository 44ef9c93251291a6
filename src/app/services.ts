import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Throttle } from '../abuse/throttle';
import { AuditService } from '../audit/audit.service';
import { AuthService } from '../auth/auth.service';
import { PasswordHasher } from '../auth/password-hasher';
import type { Config } from '../config/config';
import type { Secrets } from '../crypto/dev-secrets';
import { Encryptor } from '../crypto/encryption';
import { Sql } from '../db/sql';
import { RevocationWatcher } from '../sessions/revocation-watcher';
import { SessionsService } from '../sessions/sessions.service';
import { AccessTokenService } from '../tokens/access-token.service';
import { loadSigningKeys, type SigningKeys } from '../tokens/signing-keys';
import { TwoFactorService } from '../two-factor/two-factor.service';
import { UsersService } from '../users/users.service';

/** Seconds of clock difference forgiven between instances (also in access-token verification). */
const CLOCK_TOLERANCE_SECONDS = 5;

/** Everything a request may need, built once at start and handed to resolvers through the context. */
export interface Services {
  config: Config;
  logger: Logger;
  dataSource: DataSource;
  sql: Sql;
  keys: SigningKeys;
  encryptor: Encryptor;
  hasher: PasswordHasher;
  accessTokens: AccessTokenService;
  audit: AuditService;
  revocations: RevocationWatcher;
  sessions: SessionsService;
  users: UsersService;
  auth: AuthService;
  throttle: Throttle;
  twoFactor: TwoFactorService;
}

export function createServices(config: Config, logger: Logger, dataSource: DataSource, secrets: Secrets, throttle: Throttle): Services {
  const sql = Sql.of(dataSource);
  const keys = loadSigningKeys(secrets.jwtPrivateKeyPem, config.jwtPreviousPublicKeysPem);
  const encryptor = new Encryptor(secrets.encryptionKey, config.encryptionPreviousKeys);
  const hasher = new PasswordHasher({ rounds: config.bcryptRounds, concurrency: config.bcryptConcurrency, queueLimit: config.bcryptQueueLimit });
  const accessTokens = new AccessTokenService(keys, {
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    ttlSeconds: config.accessTokenTtlSeconds,
  });
  const audit = new AuditService();
  const revocations = new RevocationWatcher(sql, {
    pollMs: config.revocationPollMs,
    horizonSeconds: config.accessTokenTtlSeconds + CLOCK_TOLERANCE_SECONDS * 2,
    onError: (error) => logger.warn({ err: error }, 'revocation poll failed'),
  });
  const sessions = new SessionsService(dataSource, audit, encryptor, revocations, {
    idleSeconds: config.sessionIdleSeconds,
    absoluteSeconds: config.sessionAbsoluteSeconds,
    reuseGraceSeconds: config.refreshReuseGraceSeconds,
    maxPerUser: config.sessionMaxPerUser,
  });
  const users = new UsersService(dataSource, sql, audit, revocations);
  const auth = new AuthService(dataSource, sql, hasher, accessTokens, sessions, revocations, audit, throttle);
  const twoFactor = new TwoFactorService(dataSource, sql, encryptor, auth, audit, throttle, { issuer: config.twoFactorIssuer });
  return { config, logger, dataSource, sql, keys, encryptor, hasher, accessTokens, audit, revocations, sessions, users, auth, throttle, twoFactor };
}
