import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';
import { EMBEDDED_TEST_PORT, recreateDatabase, TEST_DATABASE_NAME, withDatabase } from './test-database';

interface TestRun {
  adminUrl: string;
  embedded?: { stop(): Promise<void> };
}

/**
 * A real PostgreSQL for the whole run: DATABASE_URL's server when set (CI: the machine's), else an
 * embedded one under .data/test-pg, so `npm test` passes on a machine with nothing running.
 * Either way the tests get a freshly created database of their own, dropped at the end.
 */
export default async function globalSetup(): Promise<void> {
  const run: TestRun = { adminUrl: process.env.DATABASE_URL ?? '' };
  if (!run.adminUrl) {
    run.embedded = await startEmbeddedPostgres(join(process.cwd(), '.data', 'test-pg'), EMBEDDED_TEST_PORT);
    run.adminUrl = (run.embedded as { url: string } & TestRun['embedded'] & object).url;
  }
  await recreateDatabase(run.adminUrl, TEST_DATABASE_NAME);
  (globalThis as { __bouncerTestRun?: TestRun }).__bouncerTestRun = run;
  process.env.TEST_DATABASE_URL = withDatabase(run.adminUrl, TEST_DATABASE_NAME);
  process.env.TEST_ADMIN_DATABASE_URL = run.adminUrl;
}
