import { dropDatabase, TEST_DATABASE_NAME } from './test-database';

export default async function globalTeardown(): Promise<void> {
  const run = (globalThis as { __bouncerTestRun?: { adminUrl: string; embedded?: { stop(): Promise<void> } } }).__bouncerTestRun;
  if (!run) return;
  await dropDatabase(run.adminUrl, TEST_DATABASE_NAME).catch(() => undefined);
  await run.embedded?.stop();
}
