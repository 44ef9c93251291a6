import 'reflect-metadata';
import { loadConfig } from './src/app/config';
import { openDataSource } from './src/app/database';

/**
 * The DataSource the TypeORM CLI uses (`npm run migration:run`, `migration:generate`). It needs a
 * reachable DATABASE_URL; `npm start` applies migrations by itself, embedded database included.
 */
const config = loadConfig();
if (!config.databaseUrl) {
  process.stderr.write('ormconfig: set DATABASE_URL for the TypeORM CLI (npm start migrates the embedded database itself)\n');
  process.exit(1);
}

// The TypeORM CLI wants exactly one exported DataSource.
export default openDataSource({ url: config.databaseUrl, poolSize: 2, connectTimeoutMs: config.dbConnectTimeoutMs });
