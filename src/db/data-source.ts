import { DataSource } from 'typeorm';

export interface DataSourceOptions {
  url: string;
  poolSize: number;
  connectTimeoutMs: number;
  /** Every entity and migration of the kernel and the modules (src/app/database.ts gathers them). */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: Function[];
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: Function[];
}

/**
 * The one DataSource factory (service, CLI, TypeORM CLI, tests). `synchronize` is off everywhere:
 * schema changes are migrations.
 */
export function createDataSource(options: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'typeorm_migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: {
      max: options.poolSize,
      // Without these, a request hangs for as long as the database is away.
      connectionTimeoutMillis: options.connectTimeoutMs,
      idleTimeoutMillis: 30_000,
      statement_timeout: 15_000,
      application_name: 'bouncer',
    },
  });
}
