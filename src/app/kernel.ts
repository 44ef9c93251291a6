import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { Throttle } from '../abuse/throttle';
import { postgresStore, redisStore } from '../abuse/limiter-store';
import { AuditService } from '../audit/audit.service';
import type { Secrets } from '../crypto/dev-secrets';
import { Encryptor } from '../crypto/encryption';
import { joinCatalogues } from '../errors/app-error';
import { CoreErrors } from '../errors/core-errors';
import { Sql } from '../db/sql';
import { RevocationWatcher } from '../sessions/revocation-watcher';
import { SecondFactors } from '../sign-in/second-factor';
import { AccessTokenService } from '../tokens/access-token.service';
import { loadSigningKeys } from '../tokens/signing-keys';
import { Clock } from './clock';
import { featureConfig, type Config } from './config';
import { Container } from './container';
import { modules } from './modules';
import { ServiceOrigin } from './service-origin';
import { CoreConfigToken, ErrorCatalogueToken, LoggerToken, ModulesToken, SigningKeysToken } from './tokens';

/** Seconds of clock difference forgiven between instances (also in access-token verification). */
const CLOCK_TOLERANCE_SECONDS = 5;

export interface KernelOptions {
  /** Runs after the kernel registered and before the modules do: tests swap one collaborator (a Clock). */
  override?: (container: Container) => void;
}

/** The one catalogue of error codes: the core's and every module's (a code declared twice stops the start). */
export function errorCatalogue(): Readonly<Record<string, string>> {
  return joinCatalogues([CoreErrors.catalogue, ...modules.map((m) => m.errors ?? {})]);
}

/**
 * Builds everything a running service holds: the kernel (database, keys, tokens, audit, throttle,
 * revocations) and then each module in list order. The one composition root: nothing else wires.
 */
export async function compose(config: Config, logger: Logger, dataSource: DataSource, secrets: Secrets, options: KernelOptions = {}): Promise<Container> {
  const c = new Container();
  c.set(ErrorCatalogueToken, errorCatalogue());
  c.set(CoreConfigToken, config);
  c.set(LoggerToken, logger);
  c.set(ModulesToken, modules);
  c.set(DataSource, dataSource);
  c.set(Clock, new Clock());
  c.set(ServiceOrigin, new ServiceOrigin());
  c.set(Sql, Sql.of(dataSource));
  c.set(SigningKeysToken, loadSigningKeys(secrets.jwtPrivateKeyPem, config.jwtPreviousPublicKeysPem));
  c.set(Encryptor, new Encryptor(secrets.encryptionKey, config.encryptionPreviousKeys));
  c.set(AccessTokenService, new AccessTokenService(c.get(SigningKeysToken), { issuer: config.jwtIssuer, audience: config.jwtAudience, ttlSeconds: config.accessTokenTtlSeconds }));
  c.set(AuditService, new AuditService(new Set(modules.flatMap((m) => m.auditEvents ?? []))));
  c.set(
    RevocationWatcher,
    new RevocationWatcher(c.get(Sql), {
      pollMs: config.revocationPollMs,
      horizonSeconds: config.accessTokenTtlSeconds + CLOCK_TOLERANCE_SECONDS * 2,
      onError: (error) => logger.warn({ err: error }, 'revocation poll failed'),
    }),
  );
  const store = config.redisUrl ? await redisStore(config.redisUrl, config.rateLimitKeyPrefix, logger) : postgresStore(c.get(Sql), logger);
  const policies = modules.flatMap((m) => m.throttlePolicies?.(featureOrUndefined(config, m), config) ?? []);
  c.set(Throttle, new Throttle(store, policies, config.rateLimitKeyPrefix, logger));
  options.override?.(c);
  // Factors are built from kernel services only, so the pipeline gets its full list at construction.
  c.set(SecondFactors, new SecondFactors(modules.flatMap((m) => m.secondFactors?.(c) ?? [])));
  for (const module of modules) module.register?.(c, featureOrUndefined(config, module));
  return c;
}

function featureOrUndefined<C>(config: Config, module: { name: string; readConfig?: unknown }): C {
  return (module.readConfig ? featureConfig(config, module as never) : undefined) as C;
}
