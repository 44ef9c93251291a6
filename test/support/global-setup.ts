import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';
import { EMBEDDED_TEST_PORT, recreateDatabase, TEST_DATABASE_NAME, withDatabase } from './test-database';

/**
 * A real PostgreSQL for the whole run: DATABASE_URL's server when set (CI: the machine's), else an
 * embedded one under .data/test-pg, so `npm test` passes on a machine with nothing running.
 * Either way the tests get a freshly created database of their own.
 */
export default async function globalSetup(): Promise<void> {
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const embedded = await startEmbeddedPostgres(join(process.cwd(), '.data', 'test-pg'), EMBEDDED_TEST_PORT);
    (globalThis as { __embeddedPg?: { stop(): Promise<void> } }).__embeddedPg = embedded;
    adminUrl = embedded.url;
  }
  await recreateDatabase(adminUrl, TEST_DATABASE_NAME);
  process.env.TEST_DATABASE_URL = withDatabase(adminUrl, TEST_DATABASE_NAME);
}
