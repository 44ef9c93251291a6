import { DataSource } from 'typeorm';
import { entities } from './entities';
import { migrations } from './migrations';

export interface DataSourceOptions {
  url: string;
  poolSize: number;
  connectTimeoutMs: number;
}

/**
 * The one DataSource factory (service, CLI, TypeORM CLI, tests). `synchronize` is off everywhere:
 * schema changes are migrations.
 */
export function createDataSource(options: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    entities,
    migrations,
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
