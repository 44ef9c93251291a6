import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createThrottle, graphqlLimits } from '../abuse/abuse.module';
import { commonPasswordCount } from '../auth/password-policy';
import type { Config } from '../config/config';
import { resolveSecrets } from '../crypto/dev-secrets';
import { createDataSource } from '../db/data-source';
import type { EmbeddedDatabase } from '../db/embedded-postgres';
import { runMigrations } from '../db/migrate';
import { createLogger } from '../logging/logger';
import { CleanupService } from '../maintenance/cleanup.service';
import { buildBouncerSchema } from '../schema/build-schema';
import { registerFeatures } from './features';
import { createHttpApp } from './http-server';
import { createServices, type Services } from './services';

export interface RunningBouncer {
  url: string;
  port: number;
  services: Services;
  /** Stops accepting, lets in-flight requests finish (bounded), closes the pool, stops an embedded database. */
  stop(): Promise<void>;
}

const CLEANUP_INTERVAL_MS = 60 * 60 * 1000; // hourly: the tables grow by refreshes, not by the second
const ENDED_SESSION_RETENTION_SECONDS = 30 * 24 * 60 * 60; // ended sessions stay visible to audits a month

const PROCESS_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'beforeExit', 'message'] as const;

/**
 * embedded-postgres installs async-exit-hook at import: its handlers exit with 128+signal at once
 * and hold the process open for seconds on a normal exit. Shutdown is ours (drain, close the pool,
 * stop the database, exit 0), so every process handler the import added is taken off again.
 */
async function withoutForeignProcessHandlers<T>(load: () => Promise<T>): Promise<T> {
  const listeners = (event: string) => process.listeners(event as NodeJS.Signals) as Array<(...args: unknown[]) => void>;
  const before = new Map(PROCESS_EVENTS.map((e) => [e, new Set(listeners(e))]));
  const loaded = await load();
  for (const event of PROCESS_EVENTS) {
    for (const listener of listeners(event)) if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
  }
  return loaded;
}

/** Resolves DATABASE_URL, or starts the embedded PostgreSQL under DATA_DIR when it is unset. */
export async function resolveDatabase(config: Config, logger: Logger): Promise<{ url: string; embedded: EmbeddedDatabase | null }> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: null };
  // Loaded only when needed: the package is ESM, which Jest's module runtime cannot require.
  const { startEmbeddedPostgres } = await withoutForeignProcessHandlers(() => import('../db/embedded-postgres'));
  const embedded = await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort, (line) => logger.warn({ postgres: line }, 'embedded postgres'));
  logger.info({ port: config.embeddedPgPort, dir: config.dataDir }, 'embedded PostgreSQL started');
  return { url: embedded.url, embedded };
}

export async function startBouncer(config: Config, logger: Logger = createLogger(config)): Promise<RunningBouncer> {
  const secrets = resolveSecrets(config);
  const database = await resolveDatabase(config, logger);
  const dataSource = createDataSource({ url: database.url, poolSize: config.dbPoolSize, connectTimeoutMs: config.dbConnectTimeoutMs });
  try {
    await dataSource.initialize();
    await runMigrations(dataSource);
    const throttle = await createThrottle(config, dataSource, logger);
    const services = createServices(config, logger, dataSource, secrets, throttle);
    registerFeatures(services);
    commonPasswordCount();
    await Promise.all([services.revocations.start(), services.hasher.warmUp()]);
    const cleanup = new CleanupService(dataSource, {
      intervalMs: CLEANUP_INTERVAL_MS,
      // A token retired longer ago than the idle limit belongs to a session used since, or dead.
      retiredTokenRetentionSeconds: config.sessionIdleSeconds,
      endedSessionRetentionSeconds: ENDED_SESSION_RETENTION_SECONDS,
      onError: (error) => logger.warn({ err: error }, 'cleanup failed'),
    });
    cleanup.start();

    const schema = await buildBouncerSchema();
    const app = await createHttpApp(services, schema, graphqlLimits(config));
    await new Promise<void>((resolve, reject) => {
      app.server.once('error', reject);
      app.server.listen(config.port, config.host, () => resolve());
    });
    const port = (app.server.address() as AddressInfo).port;
    const scheme = config.tlsCertFile ? 'https' : 'http';

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopping ??= (async () => {
        app.server.close();
        app.server.closeIdleConnections();
        const deadline = Date.now() + config.shutdownTimeoutMs;
        while (app.inFlight() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
        app.server.closeAllConnections();
        logger.debug('shutdown: http closed');
        await app.apollo.stop();
        services.revocations.stop();
        await cleanup.stop();
        await throttle.close();
        logger.debug('shutdown: throttle closed');
        await dataSource.destroy();
        logger.debug('shutdown: pool closed');
        await database.embedded?.stop();
        logger.debug('shutdown: database stopped');
      })());

    return { url: `${scheme}://localhost:${port}/graphql`, port, services, stop };
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    await database.embedded?.stop().catch(() => undefined);
    throw error;
  }
}
