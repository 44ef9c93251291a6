import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { Throttle } from '../abuse/throttle';
import { graphqlDocumentLimits } from '../abuse/graphql-limits';
import { resolveSecrets } from '../crypto/dev-secrets';
import { Encryptor } from '../crypto/encryption';
import { runMigrations } from '../db/migrate';
import { createLogger } from '../logging/logger';
import { CleanupService } from '../maintenance/cleanup.service';
import { buildBouncerSchema } from '../schema/build-schema';
import { RevocationWatcher } from '../sessions/revocation-watcher';
import { AccessTokenService } from '../tokens/access-token.service';
import type { SigningKeys } from '../tokens/signing-keys';
import { UsersService } from '../users/users.service';
import { featureConfig, type Config } from './config';
import type { Container } from './container';
import { openDataSource, resolveDatabase } from './database';
import { createHttpApp } from './http-server';
import { compose, type KernelOptions } from './kernel';
import { modules } from './modules';
import { ServiceOrigin } from './service-origin';
import { SigningKeysToken } from './tokens';

export interface RunningBouncer {
  url: string;
  port: number;
  container: Container;
  /** Handles tests and operators reach for; resolvers never see these. */
  services: { config: Config; dataSource: DataSource; keys: SigningKeys; encryptor: Encryptor };
  /** Stops accepting, lets in-flight requests finish (bounded), closes the pool, stops an embedded database. */
  stop(): Promise<void>;
}

const CLEANUP_INTERVAL_MS = 60 * 60 * 1000; // hourly: the tables grow by refreshes, not by the second

/** Every field name a module marked secret, for the logger's redaction. */
export function moduleSecretFields(): string[] {
  return modules.flatMap((m) => m.secretFields ?? []);
}

export async function startBouncer(config: Config, logger: Logger = createLogger(config, moduleSecretFields()), options: KernelOptions = {}): Promise<RunningBouncer> {
  const secrets = resolveSecrets(config);
  const database = await resolveDatabase(config, logger);
  const dataSource = openDataSource({ url: database.url, poolSize: config.dbPoolSize, connectTimeoutMs: config.dbConnectTimeoutMs });
  let container: Container | undefined;
  const started: Array<(typeof modules)[number]> = [];
  try {
    await dataSource.initialize();
    await runMigrations(dataSource);
    container = await compose(config, logger, dataSource, secrets, options);
    const c = container;
    await c.get(RevocationWatcher).start();
    for (const module of modules) {
      await module.start?.(c);
      started.push(module);
    }
    const cleanup = c.set(
      CleanupService,
      new CleanupService(dataSource, {
        intervalMs: CLEANUP_INTERVAL_MS,
        jobs: modules.flatMap((m) => m.cleanupJobs?.(m.readConfig ? featureConfig(config, m) : undefined, config) ?? []),
        onError: (error) => logger.warn({ err: error }, 'cleanup failed'),
      }),
    );
    cleanup.start();

    const schema = await buildBouncerSchema(c, c.get(UsersService));
    const verifier = { accessTokens: c.get(AccessTokenService), revocations: c.get(RevocationWatcher) };
    const keys = c.get(SigningKeysToken);
    const routes = modules.flatMap((m) => m.routes?.(c, m.readConfig ? featureConfig(config, m) : undefined) ?? []);
    const extensions = graphqlDocumentLimits(config.limits);
    extensions.plugins.push(...modules.flatMap((m) => m.graphqlPlugins?.(c) ?? []));
    const app = await createHttpApp({ config, logger, dataSource, keys, verifier, routes }, schema, extensions);
    await new Promise<void>((resolve, reject) => {
      app.server.once('error', reject);
      app.server.listen(config.port, config.host, () => resolve());
    });
    const port = (app.server.address() as AddressInfo).port;
    const scheme = config.tlsCertFile ? 'https' : 'http';
    c.get(ServiceOrigin).set(`${scheme}://localhost:${port}`);

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopping ??= (async () => {
        // Apollo's drain plugin: stop accepting, let requests in flight finish (SHUTDOWN_TIMEOUT_MS), close.
        await app.apollo.stop();
        logger.debug('shutdown: http drained');
        c.get(RevocationWatcher).stop();
        await cleanup.stop();
        for (const module of [...modules].reverse()) await module.stop?.(c);
        await c.get(Throttle).close();
        await dataSource.destroy();
        logger.debug('shutdown: pool closed');
        await database.embedded?.stop();
        logger.debug('shutdown: database stopped');
      })());

    return {
      url: `${scheme}://localhost:${port}/graphql`,
      port,
      container: c,
      services: { config, dataSource, keys, encryptor: c.get(Encryptor) },
      stop,
    };
  } catch (error) {
    // Background work already started (timers, listening connections) must not outlive a failed start.
    for (const module of started.reverse()) await Promise.resolve(module.stop?.(container!)).catch(() => undefined);
    if (container?.has(Throttle)) await container.get(Throttle).close().catch(() => undefined);
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    await database.embedded?.stop().catch(() => undefined);
    throw error;
  }
}
