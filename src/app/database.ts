import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { AuditEventEntity } from '../audit/audit-event.entity';
import type { CoreConfig } from '../config/core-config';
import { createDataSource, type DataSourceOptions } from '../db/data-source';
import type { EmbeddedDatabase } from '../db/embedded-postgres';
import { kernelMigrations } from '../db/migrations';
import { modules } from './modules';

/** Migration classes end in their creation time (`...1733100000000`): that orders them across modules. */
function timestampOf(migration: { name: string }): number {
  return Number(/(\d{13})$/.exec(migration.name)?.[1] ?? 0);
}

/** Every entity and migration: the kernel's and each module's. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export function databaseSchema(): { entities: Function[]; migrations: Function[] } {
  const entities = [AuditEventEntity, ...modules.flatMap((m) => m.entities ?? [])];
  const migrations = [...kernelMigrations, ...modules.flatMap((m) => m.migrations ?? [])].sort((a, b) => timestampOf(a) - timestampOf(b));
  return { entities, migrations };
}

export function openDataSource(options: Omit<DataSourceOptions, 'entities' | 'migrations'>): DataSource {
  return createDataSource({ ...options, ...databaseSchema() });
}

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
export async function resolveDatabase(config: CoreConfig, logger: Logger): Promise<{ url: string; embedded: EmbeddedDatabase | null }> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: null };
  // Loaded only when needed: the package is ESM, which Jest's module runtime cannot require.
  const { startEmbeddedPostgres } = await withoutForeignProcessHandlers(() => import('../db/embedded-postgres'));
  const embedded = await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort, (line) => logger.warn({ postgres: line }, 'embedded postgres'));
  logger.info({ port: config.embeddedPgPort, dir: config.dataDir }, 'embedded PostgreSQL started');
  return { url: embedded.url, embedded };
}
